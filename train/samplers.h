#pragma once
// Where a training step's latents and real examples come from. The plain samplers draw a batch
// directly; the core-set samplers (Small-GAN) draw a larger pool uniformly (factor * B) and keep B by
// greedy k-center, on the latents themselves or on the real examples' embeddings.
#include <cstdint>
#include <memory>
#include <string>

#include "engine/core/tensor.h"

namespace gantry {
class Generator;
}

namespace gantry::train {

// The pool factor of a core-set sampler: fixed, or annealed linearly from `start` at step 0 to 1 at
// `total_steps` (so late training sees plain uniform batches). The pool is round(factor * B) >= B.
struct CoresetFactor {
  double start = 4.0;
  bool anneal = false;
  int64_t total_steps = 1;

  // Throws unless start >= 1 (and total_steps >= 1 when annealing).
  void validate(const char* what) const;
  double at(int64_t step) const;
  int64_t pool_size(int64_t batch, int64_t step) const;
};

// Upper bounds of the core-set factors and of the candidates a core-set step draws (factor x
// batch): beyond them one step would take minutes or run out of memory.
inline constexpr double kMaxCoresetFactor = 1000;
inline constexpr int64_t kMaxCoresetPool = int64_t{1} << 20;
// Throws naming `option` unless factor is in [1, kMaxCoresetFactor] and factor * batch <= kMaxCoresetPool.
void check_coreset_factor(const char* option, const char* which, double factor, int64_t batch);

// ---- latents ----
// The latent prior: N(0, 1) per coordinate (the top-k paper's) or uniform on [-1, 1) per coordinate
// (Small-GAN Sec. 3.1 draws z from a hypercube, whose core-sets do not favour the tails).
enum class LatentPrior { normal, uniform };
// "normal" | "uniform"; throws naming `option` otherwise.
LatentPrior parse_latent_prior(const std::string& text, const char* option = "--prior");
const char* latent_prior_name(LatentPrior prior);
// n draws [n, dim] (f32) from the prior.
Tensor draw_latents(LatentPrior prior, int64_t n, int64_t dim, Generator& gen, Device device = kCPU);

class LatentSampler {
 public:
  virtual ~LatentSampler() = default;
  // [batch, latent_dim] latents for the given training step.
  virtual Tensor sample(int64_t batch, Generator& gen, int64_t step) = 0;
  virtual std::string describe() const = 0;
};

// z drawn from the prior (N(0, I) by default) of dimension latent_dim.
class PriorLatentSampler final : public LatentSampler {
 public:
  PriorLatentSampler(int64_t latent_dim, Device device = kCPU, LatentPrior prior = LatentPrior::normal);
  Tensor sample(int64_t batch, Generator& gen, int64_t step) override;
  std::string describe() const override;
  int64_t latent_dim() const { return latent_dim_; }

 private:
  int64_t latent_dim_;
  Device device_;
  LatentPrior prior_;
};

// Draws pool_size(B) prior latents and keeps B of them by greedy k-center.
class CoresetLatentSampler final : public LatentSampler {
 public:
  CoresetLatentSampler(int64_t latent_dim, CoresetFactor factor, Device device = kCPU,
                       LatentPrior prior = LatentPrior::normal);
  Tensor sample(int64_t batch, Generator& gen, int64_t step) override;
  std::string describe() const override;

 private:
  PriorLatentSampler prior_;
  CoresetFactor factor_;
};

// ---- real data ----
struct DrawnExamples {
  Tensor examples;    // [n, ...] what the critic sees
  Tensor embeddings;  // [n, d] what core-set selection measures distances on
};

// Draws n real examples uniformly at random from the whole dataset or distribution.
class RealDataSource {
 public:
  virtual ~RealDataSource() = default;
  virtual DrawnExamples draw(int64_t n, Generator& gen) = 0;
  virtual std::string describe() const = 0;
};

// A batch of real examples and, for labelled data, their class labels (i64 [n]; undefined otherwise).
struct RealBatch {
  Tensor examples;
  Tensor labels;
};

class DataSampler {
 public:
  virtual ~DataSampler() = default;
  virtual Tensor sample(int64_t batch, Generator& gen, int64_t step) = 0;
  // The batch with its labels; samplers of labelled data override it (the default has no labels).
  virtual RealBatch sample_batch(int64_t batch, Generator& gen, int64_t step) { return {sample(batch, gen, step), {}}; }
  virtual std::string describe() const = 0;
};

class UniformDataSampler final : public DataSampler {
 public:
  explicit UniformDataSampler(std::shared_ptr<RealDataSource> source) : source_(std::move(source)) {}
  Tensor sample(int64_t batch, Generator& gen, int64_t step) override;
  std::string describe() const override { return "uniform"; }

 private:
  std::shared_ptr<RealDataSource> source_;
};

// Draws pool_size(B) examples uniformly and keeps B by greedy k-center on their embeddings.
class CoresetDataSampler final : public DataSampler {
 public:
  CoresetDataSampler(std::shared_ptr<RealDataSource> source, CoresetFactor factor);
  Tensor sample(int64_t batch, Generator& gen, int64_t step) override;
  std::string describe() const override;

 private:
  std::shared_ptr<RealDataSource> source_;
  CoresetFactor factor_;
};

}  // namespace gantry::train
