#include "train/image/image_data_samplers.h"

#include "engine/core/error.h"

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

ImageRealDataSource::ImageRealDataSource(std::shared_ptr<const data::ImageDataset> dataset, bool random_flip,
                                         Device device)
    : dataset_(std::move(dataset)), random_flip_(random_flip), device_(device) {}

train::DrawnExamples ImageRealDataSource::draw(int64_t n, Generator& gen) {
  data::ImageBatch b = data::draw_uniform(*dataset_, n, gen, random_flip_);
  const Tensor images = b.images.to(device_);
  return {images, images.reshape({n, -1})};
}

}  // namespace gantry::image
