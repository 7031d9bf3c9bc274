#pragma once
// Real images for the GAN step loop: batches in the loader's seeded per-epoch order (the default), or
// Small-GAN's data core-sets: uniform draws from the whole dataset, of which greedy k-center keeps B
// by their embeddings (cached and projected, train/image/embedding_cache.h, or the decoded pixels).
#include <memory>
#include <vector>

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

// The embeddings of dataset examples that a core-set pool is measured by.
class ExampleEmbeddings {
 public:
  virtual ~ExampleEmbeddings() = default;
  // [indices.size(), d] f32, row i for example indices[i].
  virtual Tensor rows(const std::vector<int64_t>& indices) const = 0;
  virtual std::string describe() const = 0;
};

// Rows of a table of every example's embedding (the embedding cache's points, [dataset size, d]).
class TableEmbeddings final : public ExampleEmbeddings {
 public:
  TableEmbeddings(Tensor table, std::string description);
  Tensor rows(const std::vector<int64_t>& indices) const override;
  std::string describe() const override { return description_; }

 private:
  Tensor table_;
  std::string description_;
};

// The flattened pixels in [0, 1], decoded for each pool (no table: a table of the raw pixels would be a
// second copy of the dataset).
class DecodedPixelEmbeddings final : public ExampleEmbeddings {
 public:
  explicit DecodedPixelEmbeddings(std::shared_ptr<const data::ImageDataset> dataset) : dataset_(std::move(dataset)) {}
  Tensor rows(const std::vector<int64_t>& indices) const override;
  std::string describe() const override { return "pixels, unprojected"; }

 private:
  std::shared_ptr<const data::ImageDataset> dataset_;
};

// Small-GAN's data core-set: each step draws pool_size(B) indices uniformly (with replacement) from
// the whole dataset with the run's generator, keeps B by greedy k-center on their embeddings, and
// decodes only those B images (each flipped by a further draw with random_flip), with their labels.
// Everything it draws comes from the run's generator, which the checkpoint carries, so a resumed run
// selects the same images.
class CoresetImageSampler final : public train::DataSampler {
 public:
  CoresetImageSampler(std::shared_ptr<const data::ImageDataset> dataset,
                      std::shared_ptr<const ExampleEmbeddings> embeddings, train::CoresetFactor factor,
                      bool random_flip, Device device);
  Tensor sample(int64_t batch, Generator& gen, int64_t step) override {
    return sample_batch(batch, gen, step).examples;
  }
  train::RealBatch sample_batch(int64_t batch, Generator& gen, int64_t step) override;
  std::string describe() const override;

  struct Selection {
    std::vector<int64_t> candidates;  // the pool, in draw order
    std::vector<int64_t> selected;    // dataset indices of the batch, in greedy k-center order
    std::vector<bool> flips;          // per selected image; empty without random_flip
  };
  // What sample_batch() decodes, drawing exactly what it draws.
  Selection select(int64_t batch, Generator& gen, int64_t step) const;

 private:
  std::shared_ptr<const data::ImageDataset> dataset_;
  std::shared_ptr<const ExampleEmbeddings> embeddings_;
  train::CoresetFactor factor_;
  bool random_flip_;
  Device device_;
};

}  // namespace gantry::image
