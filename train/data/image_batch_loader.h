#pragma once
// Batches of an image dataset for training, decoded on a background thread so the training step never
// waits on decoding. Deterministic by construction: epoch e's permutation and each example's flip are
// Philox draws keyed on (seed, epoch, position) only, so a run resumed with seek()/load_state() sees
// exactly the batches an uninterrupted run sees, whatever the thread timing.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/core/tensor.h"
#include "engine/random/generator.h"
#include "train/data/image_dataset.h"

namespace gantry::data {

struct ImageBatch {
  Tensor images;  // f32 [B,C,H,W], (x/255)*2-1 in [-1,1]
  Tensor labels;  // i64 [B]; undefined when unlabelled
};

struct ImageLoaderOptions {
  int64_t batch_size = 64;
  bool random_flip = false;  // horizontal flips, each with probability 1/2
  uint64_t seed = 0;
  int64_t prefetch_batches = 4;  // batches decoded ahead of next()
  // Threads that share the decoding of one batch (folders of large JPEGs); the batches are identical
  // for any count.
  int64_t decode_threads = 1;
};

struct LoaderPosition {  // of the next batch next() returns
  int64_t epoch = 0;
  int64_t batch = 0;
};

class ImageBatchLoader {
 public:
  // Throws gantry::Error when the dataset holds fewer images than one batch or an option is out of range.
  ImageBatchLoader(std::shared_ptr<const ImageDataset> dataset, ImageLoaderOptions options);
  ~ImageBatchLoader();  // joins the thread
  ImageBatchLoader(const ImageBatchLoader&) = delete;
  ImageBatchLoader& operator=(const ImageBatchLoader&) = delete;

  // The next batch of this epoch's seeded permutation; the last partial batch of an epoch is dropped.
  // Rethrows a decoding error of the background thread.
  ImageBatch next();
  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  LoaderPosition position() const;
  // After restoring a checkpoint: the continuation is identical to an uninterrupted run.
  void seek(LoaderPosition position);
  nlohmann::json state() const;  // {"epoch","batch","seed"} for checkpoints
  // Refuses a state with another seed, naming both.
  void load_state(const nlohmann::json& state);

  // The dataset index at `position` of epoch `epoch`'s permutation, and whether that example is
  // flipped: the pure functions of (seed, epoch, position) that the batches follow.
  static std::vector<int64_t> epoch_permutation(uint64_t seed, int64_t epoch, int64_t size);
  static bool flip_of(uint64_t seed, int64_t epoch, int64_t position);

 private:
  void start_worker();
  void stop_worker();
  void produce();
  ImageBatch make_batch(LoaderPosition at, std::vector<int64_t>& permutation, int64_t& permutation_epoch) const;

  std::shared_ptr<const ImageDataset> dataset_;
  ImageLoaderOptions options_;
  int64_t batches_per_epoch_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<ImageBatch> ready_;
  LoaderPosition next_;       // what next() returns
  LoaderPosition produce_;    // what the worker decodes next
  std::exception_ptr error_;  // the worker's, rethrown by next()
  bool stop_ = false;
  std::thread worker_;
};

// Uniform draws with replacement for core-set pools: n examples as an ImageBatch, using `gen` (indices,
// then flips when random_flip).
ImageBatch draw_uniform(const ImageDataset& dataset, int64_t n, Generator& gen, bool random_flip);
// The examples at `indices` as one batch, example i flipped when flips[i] (flips empty: none).
ImageBatch gather_examples(const ImageDataset& dataset, const std::vector<int64_t>& indices,
                           const std::vector<bool>& flips = {}, int64_t threads = 1);

}  // namespace gantry::data
