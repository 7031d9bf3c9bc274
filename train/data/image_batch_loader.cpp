#include "train/data/image_batch_loader.h"

#include <algorithm>
#include <numeric>

#include "engine/core/error.h"
#include "engine/random/philox.h"
#include "train/data/in_memory_image_dataset.h"

namespace gantry::data {

namespace {

// Philox counter word 3 separates the loader's streams, so no permutation key equals a flip draw.
constexpr uint32_t kPermutationStream = 1, kFlipStream = 2;

random::PhiloxWords loader_draw(uint64_t seed, int64_t epoch, int64_t position, uint32_t stream) {
  const auto p = static_cast<uint64_t>(position);
  const random::PhiloxWords counter{
      {static_cast<uint32_t>(p), static_cast<uint32_t>(p >> 32), static_cast<uint32_t>(epoch), stream}};
  return random::philox4x32(counter, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Decodes example b of a batch into its slot: every slot is written by exactly one thread, so the
// batch is the same however the work is split.
void decode_example(const ImageDataset& dataset, int64_t index, bool flip, float* image, int64_t* label,
                    std::vector<uint8_t>& pixels) {
  const ImageDatasetInfo& info = dataset.info();
  const int64_t h = info.height, w = info.width;
  const int64_t read_label = dataset.read(index, pixels.data());
  if (label) *label = read_label;
  for (int64_t row = 0; row < info.channels * h; ++row)
    for (int64_t x = 0; x < w; ++x)
      image[row * w + x] =
          static_cast<float>(pixels[static_cast<size_t>(row * w + (flip ? w - 1 - x : x))]) / 255.0f * 2.0f - 1.0f;
}

// The examples at `indices` as a batch, flipped where `flips` says (empty: none), decoded by up to
// `threads` threads (contiguous shares of the batch).
ImageBatch assemble_batch(const ImageDataset& dataset, const std::vector<int64_t>& indices,
                          const std::vector<bool>& flips, int64_t threads = 1) {
  const ImageDatasetInfo& info = dataset.info();
  const int64_t n = static_cast<int64_t>(indices.size());
  const int64_t image_floats = info.channels * info.height * info.width;
  ImageBatch batch;
  batch.images = empty({n, info.channels, info.height, info.width}, DType::f32, kCPU);
  if (info.num_classes > 0) batch.labels = empty({n}, DType::i64, kCPU);
  float* images = batch.images.data_ptr<float>();
  int64_t* labels = batch.labels.defined() ? batch.labels.data_ptr<int64_t>() : nullptr;
  const auto decode_range = [&](int64_t begin, int64_t end) {
    std::vector<uint8_t> pixels(static_cast<size_t>(image_floats));
    for (int64_t b = begin; b < end; ++b)
      decode_example(dataset, indices[static_cast<size_t>(b)], !flips.empty() && flips[static_cast<size_t>(b)],
                     images + b * image_floats, labels ? labels + b : nullptr, pixels);
  };
  threads = std::clamp<int64_t>(threads, 1, std::max<int64_t>(n, 1));
  if (threads == 1) {
    decode_range(0, n);
    return batch;
  }
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(static_cast<size_t>(threads));
  for (int64_t t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      try {
        decode_range(n * t / threads, n * (t + 1) / threads);
      } catch (...) {
        errors[static_cast<size_t>(t)] = std::current_exception();
      }
    });
  for (std::thread& thread : pool) thread.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
  return batch;
}

}  // namespace

std::vector<int64_t> ImageBatchLoader::epoch_permutation(uint64_t seed, int64_t epoch, int64_t size) {
  // Sorting by 64-bit random keys (ties by index) gives a uniform permutation up to key collisions.
  std::vector<uint64_t> keys(static_cast<size_t>(size));
  for (int64_t i = 0; i < size; ++i) {
    const random::PhiloxWords r = loader_draw(seed, epoch, i, kPermutationStream);
    keys[static_cast<size_t>(i)] = uint64_t{r.w[0]} | uint64_t{r.w[1]} << 32;
  }
  std::vector<int64_t> order(static_cast<size_t>(size));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    const uint64_t ka = keys[static_cast<size_t>(a)], kb = keys[static_cast<size_t>(b)];
    return ka != kb ? ka < kb : a < b;
  });
  return order;
}

bool ImageBatchLoader::flip_of(uint64_t seed, int64_t epoch, int64_t position) {
  return (loader_draw(seed, epoch, position, kFlipStream).w[0] & 1u) != 0;
}

ImageBatchLoader::ImageBatchLoader(std::shared_ptr<const ImageDataset> dataset, ImageLoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  GANTRY_CHECK(dataset_ != nullptr, "ImageBatchLoader: no dataset");
  GANTRY_CHECK(options_.batch_size >= 1, "ImageBatchLoader: batch size must be >= 1, got ", options_.batch_size);
  GANTRY_CHECK(options_.decode_threads >= 1, "ImageBatchLoader: decode_threads must be >= 1, got ",
               options_.decode_threads);
  GANTRY_CHECK(options_.prefetch_batches >= 1, "ImageBatchLoader: prefetch_batches must be >= 1, got ",
               options_.prefetch_batches);
  batches_per_epoch_ = dataset_->info().size / options_.batch_size;
  GANTRY_CHECK(batches_per_epoch_ >= 1, "ImageBatchLoader: dataset '", dataset_->info().name, "' holds ",
               dataset_->info().size, " images, fewer than one batch of ", options_.batch_size);
  start_worker();
}

ImageBatchLoader::~ImageBatchLoader() { stop_worker(); }

void ImageBatchLoader::start_worker() {
  stop_ = false;
  worker_ = std::thread([this] { produce(); });
}

void ImageBatchLoader::stop_worker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
}

ImageBatch ImageBatchLoader::make_batch(LoaderPosition at, std::vector<int64_t>& permutation,
                                        int64_t& permutation_epoch) const {
  if (permutation_epoch != at.epoch) {
    permutation = epoch_permutation(options_.seed, at.epoch, dataset_->info().size);
    permutation_epoch = at.epoch;
  }
  const int64_t first = at.batch * options_.batch_size;
  std::vector<int64_t> indices(permutation.begin() + first, permutation.begin() + first + options_.batch_size);
  std::vector<bool> flips;
  if (options_.random_flip)
    for (int64_t i = 0; i < options_.batch_size; ++i) flips.push_back(flip_of(options_.seed, at.epoch, first + i));
  return assemble_batch(*dataset_, indices, flips, options_.decode_threads);
}

void ImageBatchLoader::produce() {
  std::vector<int64_t> permutation;
  int64_t permutation_epoch = -1;
  for (;;) {
    LoaderPosition at;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || static_cast<int64_t>(ready_.size()) < options_.prefetch_batches; });
      if (stop_ || error_) return;
      at = produce_;
    }
    ImageBatch batch;
    try {
      batch = make_batch(at, permutation, permutation_epoch);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
      changed_.notify_all();
      return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    ready_.push_back(std::move(batch));
    produce_.batch = at.batch + 1 == batches_per_epoch_ ? 0 : at.batch + 1;
    produce_.epoch = at.batch + 1 == batches_per_epoch_ ? at.epoch + 1 : at.epoch;
    changed_.notify_all();
  }
}

ImageBatch ImageBatchLoader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return !ready_.empty() || error_; });
  if (ready_.empty()) std::rethrow_exception(error_);
  ImageBatch batch = std::move(ready_.front());
  ready_.pop_front();
  next_.batch = next_.batch + 1 == batches_per_epoch_ ? 0 : next_.batch + 1;
  next_.epoch += next_.batch == 0 ? 1 : 0;
  changed_.notify_all();
  return batch;
}

LoaderPosition ImageBatchLoader::position() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return next_;
}

void ImageBatchLoader::seek(LoaderPosition position) {
  GANTRY_CHECK(position.epoch >= 0 && position.batch >= 0 && position.batch < batches_per_epoch_,
               "ImageBatchLoader::seek: position (epoch ", position.epoch, ", batch ", position.batch,
               ") out of range: an epoch has ", batches_per_epoch_, " batches");
  stop_worker();
  ready_.clear();
  error_ = nullptr;
  next_ = produce_ = position;
  start_worker();
}

nlohmann::json ImageBatchLoader::state() const {
  const LoaderPosition p = position();
  return {{"epoch", p.epoch}, {"batch", p.batch}, {"seed", options_.seed}};
}

void ImageBatchLoader::load_state(const nlohmann::json& state) {
  GANTRY_CHECK(state.is_object() && state.contains("epoch") && state.contains("batch") && state.contains("seed") &&
                   state["epoch"].is_number_integer() && state["batch"].is_number_integer() &&
                   state["seed"].is_number_integer() && state["seed"].get<int64_t>() >= 0,
               "ImageBatchLoader::load_state: expected {\"epoch\", \"batch\", \"seed\"} integers, got ", state.dump());
  const uint64_t seed = state["seed"].get<uint64_t>();
  GANTRY_CHECK(seed == options_.seed, "ImageBatchLoader::load_state: the state was saved with data seed ", seed,
               ", this loader has seed ", options_.seed);
  seek({state["epoch"].get<int64_t>(), state["batch"].get<int64_t>()});
}

ImageBatch draw_uniform(const ImageDataset& dataset, int64_t n, Generator& gen, bool random_flip) {
  GANTRY_CHECK(n >= 0, "draw_uniform: n must be >= 0, got ", n);
  GANTRY_CHECK(dataset.info().size > 0, "draw_uniform: dataset '", dataset.info().name, "' is empty");
  const Tensor drawn = randint(0, dataset.info().size, {n}, gen);
  std::vector<int64_t> indices(drawn.data_ptr<int64_t>(), drawn.data_ptr<int64_t>() + n);
  std::vector<bool> flips;
  if (random_flip) {
    const Tensor u = rand({n}, gen);
    for (int64_t i = 0; i < n; ++i) flips.push_back(u.data_ptr<float>()[i] < 0.5f);
  }
  return assemble_batch(dataset, indices, flips);
}

ImageBatch gather_examples(const ImageDataset& dataset, const std::vector<int64_t>& indices,
                           const std::vector<bool>& flips, int64_t threads) {
  GANTRY_CHECK(flips.empty() || flips.size() == indices.size(), "gather_examples: ", flips.size(), " flips for ",
               indices.size(), " indices");
  for (int64_t i : indices) check_image_index(dataset.info(), i);
  return assemble_batch(dataset, indices, flips, threads);
}

}  // namespace gantry::data
