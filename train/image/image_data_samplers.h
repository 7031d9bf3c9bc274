#pragma once
// Real images for the GAN step loop: batches in the loader's seeded per-epoch order (the default), or
// uniform draws from the whole dataset for the core-set sampler, whose embeddings are the raw pixels
// (the FID network's features will come in behind the same RealDataSource interface).
#include <memory>

#include "train/checkpoint.h"
#include "train/data/image_batch_loader.h"
#include "train/samplers.h"

namespace gantry::image {

// Epoch-ordered batches with labels; its position is part of the run's checkpoint ("data").
class EpochImageSampler final : public train::DataSampler, public train::CheckpointPart {
 public:
  EpochImageSampler(std::shared_ptr<const data::ImageDataset> dataset, data::ImageLoaderOptions options,
                    Device device);
  Tensor sample(int64_t batch, Generator& gen, int64_t step) override { return sample_batch(batch, gen, step).examples; }
  train::RealBatch sample_batch(int64_t batch, Generator& gen, int64_t step) override;
  std::string describe() const override { return "epoch order"; }
  int64_t batches_per_epoch() const { return loader_.batches_per_epoch(); }

  std::string name() const override { return "data"; }
  nlohmann::json state() const override { return loader_.state(); }
  void load(const std::vector<std::pair<std::string, Tensor>>& tensors, const nlohmann::json& state) override;

 private:
  data::ImageBatchLoader loader_;
  int64_t batch_size_;
  Device device_;
};

// Uniform draws (with replacement) of n images, embedded as their flattened pixels.
class ImageRealDataSource final : public train::RealDataSource {
 public:
  ImageRealDataSource(std::shared_ptr<const data::ImageDataset> dataset, bool random_flip, Device device);
  train::DrawnExamples draw(int64_t n, Generator& gen) override;
  std::string describe() const override { return "images (pixel embeddings)"; }

 private:
  std::shared_ptr<const data::ImageDataset> dataset_;
  bool random_flip_;
  Device device_;
};

}  // namespace gantry::image
