#include "train/image/image_data_samplers.h"

#include "engine/core/error.h"
#include "engine/ops/ops.h"
#include "engine/random/generator.h"
#include "train/coreset.h"

namespace gantry::image {

EpochImageSampler::EpochImageSampler(std::shared_ptr<const data::ImageDataset> dataset,
                                     data::ImageLoaderOptions options, Device device)
    : loader_(std::move(dataset), options), batch_size_(options.batch_size), device_(device) {}

train::RealBatch EpochImageSampler::sample_batch(int64_t batch, Generator&, int64_t) {
  GANTRY_CHECK(batch == batch_size_, "image data: the loader makes batches of ", batch_size_, ", asked for ", batch);
  data::ImageBatch b = loader_.next();
  return {b.images.to(device_), b.labels.defined() ? b.labels.to(device_) : Tensor()};
}

void EpochImageSampler::load(const std::vector<std::pair<std::string, Tensor>>&, const nlohmann::json& state) {
  loader_.load_state(state);
}

TableEmbeddings::TableEmbeddings(Tensor table, std::string description)
    : table_(std::move(table)), description_(std::move(description)) {
  GANTRY_CHECK(table_.defined() && table_.dim() == 2 && table_.size(0) >= 1 && table_.size(1) >= 1,
               "TableEmbeddings: expected a table [n, d], got ",
               table_.defined() ? shape_str(table_.shape()) : std::string("an undefined tensor"));
}

Tensor TableEmbeddings::rows(const std::vector<int64_t>& indices) const {
  const int64_t n = table_.size(0);
  for (int64_t i : indices)
    GANTRY_CHECK(i >= 0 && i < n, "TableEmbeddings: example ", i, " is outside the table of ", n, " rows");
  return index_select(table_, 0, from_vector(indices, {static_cast<int64_t>(indices.size())}, table_.device()));
}

Tensor DecodedPixelEmbeddings::rows(const std::vector<int64_t>& indices) const {
  const Tensor images = data::gather_examples(*dataset_, indices).images;  // in [-1, 1]
  return ((images + 1.0) * 0.5).reshape({static_cast<int64_t>(indices.size()), -1});
}

CoresetImageSampler::CoresetImageSampler(std::shared_ptr<const data::ImageDataset> dataset,
                                         std::shared_ptr<const ExampleEmbeddings> embeddings,
                                         train::CoresetFactor factor, bool random_flip, Device device)
    : dataset_(std::move(dataset)),
      embeddings_(std::move(embeddings)),
      factor_(factor),
      random_flip_(random_flip),
      device_(device) {
  factor_.validate("CoresetImageSampler");
}

CoresetImageSampler::Selection CoresetImageSampler::select(int64_t batch, Generator& gen, int64_t step) const {
  GANTRY_CHECK(batch >= 1, "CoresetImageSampler: batch must be >= 1, got ", batch);
  const int64_t pool = factor_.pool_size(batch, step);
  Selection s;
  const Tensor drawn = randint(0, dataset_->info().size, {pool}, gen);
  s.candidates.assign(drawn.data_ptr<int64_t>(), drawn.data_ptr<int64_t>() + pool);
  if (pool == batch) {
    s.selected = s.candidates;
  } else {
    const Tensor chosen = train::greedy_k_center(embeddings_->rows(s.candidates), batch, gen).to(kCPU);
    for (int64_t i = 0; i < batch; ++i)
      s.selected.push_back(s.candidates[static_cast<size_t>(chosen.data_ptr<int64_t>()[i])]);
  }
  if (random_flip_) {
    const Tensor u = rand({batch}, gen);
    for (int64_t i = 0; i < batch; ++i) s.flips.push_back(u.data_ptr<float>()[i] < 0.5f);
  }
  return s;
}

train::RealBatch CoresetImageSampler::sample_batch(int64_t batch, Generator& gen, int64_t step) {
  const Selection s = select(batch, gen, step);
  data::ImageBatch b = data::gather_examples(*dataset_, s.selected, s.flips);
  return {b.images.to(device_), b.labels.defined() ? b.labels.to(device_) : Tensor()};
}

std::string CoresetImageSampler::describe() const {
  return "core-set (factor " + std::to_string(factor_.start) + (factor_.anneal ? ", annealed to 1" : "") + ") on " +
         embeddings_->describe();
}

}  // namespace gantry::image
