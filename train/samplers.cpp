#include "train/samplers.h"

#include <algorithm>
#include <cmath>

#include "engine/ops/ops.h"
#include "engine/random/generator.h"
#include "train/coreset.h"

namespace gantry::train {

// A core-set step draws factor * batch candidates and runs greedy k-center over them (time and memory
// grow with the pool), so the factor and the pool are bounded before any folder is created.
void check_coreset_factor(const char* option, const char* which, double factor, int64_t batch) {
  GANTRY_CHECK(std::isfinite(factor) && factor >= 1, option, ": the ", which, " core-set factor must be >= 1, got ",
               factor);
  GANTRY_CHECK(factor <= kMaxCoresetFactor, option, ": the ", which, " core-set factor must be at most ",
               kMaxCoresetFactor, ", got ", factor);
  const double pool = factor * static_cast<double>(batch);
  GANTRY_CHECK(pool <= static_cast<double>(kMaxCoresetPool), option, ": ", factor, " x batch ", batch, " = ", pool,
               " candidates per step exceeds the limit of ", kMaxCoresetPool, " (lower ", option, " or --batch)");
}



void CoresetFactor::validate(const char* what) const {
  GANTRY_CHECK(std::isfinite(start) && start >= 1.0, what, ": the core-set factor must be >= 1, got ", start);
  GANTRY_CHECK(!anneal || total_steps >= 1, what, ": annealing needs total_steps >= 1, got ", total_steps);
}

double CoresetFactor::at(int64_t step) const {
  if (!anneal) return start;
  const double progress = std::clamp(static_cast<double>(step) / static_cast<double>(total_steps), 0.0, 1.0);
  return start + (1.0 - start) * progress;
}

int64_t CoresetFactor::pool_size(int64_t batch, int64_t step) const {
  return std::max(batch, static_cast<int64_t>(std::llround(at(step) * static_cast<double>(batch))));
}

namespace {
std::string factor_text(const CoresetFactor& f) {
  std::string s = "core-set (factor " + std::to_string(f.start);
  return s + (f.anneal ? ", annealed to 1)" : ")");
}
}  // namespace

LatentPrior parse_latent_prior(const std::string& text, const char* option) {
  if (text == "normal") return LatentPrior::normal;
  if (text == "uniform") return LatentPrior::uniform;
  GANTRY_FAIL(option, ": expected normal or uniform, got '", text, "'");
}

const char* latent_prior_name(LatentPrior prior) { return prior == LatentPrior::uniform ? "uniform" : "normal"; }

Tensor draw_latents(LatentPrior prior, int64_t n, int64_t dim, Generator& gen, Device device) {
  GANTRY_CHECK(n >= 1 && dim >= 1, "draw_latents: expected n >= 1 and dim >= 1, got ", n, " and ", dim);
  if (prior == LatentPrior::uniform) return uniform({n, dim}, -1.0, 1.0, gen, DType::f32, device);
  return randn({n, dim}, gen, DType::f32, device);
}

PriorLatentSampler::PriorLatentSampler(int64_t latent_dim, Device device, LatentPrior prior)
    : latent_dim_(latent_dim), device_(device), prior_(prior) {
  GANTRY_CHECK(latent_dim >= 1, "PriorLatentSampler: latent_dim must be >= 1, got ", latent_dim);
}

Tensor PriorLatentSampler::sample(int64_t batch, Generator& gen, int64_t) {
  GANTRY_CHECK(batch >= 1, "PriorLatentSampler: batch must be >= 1, got ", batch);
  return draw_latents(prior_, batch, latent_dim_, gen, device_);
}

std::string PriorLatentSampler::describe() const {
  return prior_ == LatentPrior::normal ? "prior" : std::string("prior (") + latent_prior_name(prior_) + ")";
}

CoresetLatentSampler::CoresetLatentSampler(int64_t latent_dim, CoresetFactor factor, Device device, LatentPrior prior)
    : prior_(latent_dim, device, prior), factor_(factor) {
  factor_.validate("CoresetLatentSampler");
}

Tensor CoresetLatentSampler::sample(int64_t batch, Generator& gen, int64_t step) {
  const Tensor pool = prior_.sample(factor_.pool_size(batch, step), gen, step);
  if (pool.size(0) == batch) return pool;
  return index_select(pool, 0, greedy_k_center(pool, batch, gen));
}

std::string CoresetLatentSampler::describe() const { return factor_text(factor_); }

Tensor UniformDataSampler::sample(int64_t batch, Generator& gen, int64_t) {
  return source_->draw(batch, gen).examples;
}

CoresetDataSampler::CoresetDataSampler(std::shared_ptr<RealDataSource> source, CoresetFactor factor)
    : source_(std::move(source)), factor_(factor) {
  factor_.validate("CoresetDataSampler");
}

Tensor CoresetDataSampler::sample(int64_t batch, Generator& gen, int64_t step) {
  DrawnExamples pool = source_->draw(factor_.pool_size(batch, step), gen);
  if (pool.examples.size(0) == batch) return pool.examples;
  return index_select(pool.examples, 0, greedy_k_center(pool.embeddings, batch, gen));
}

std::string CoresetDataSampler::describe() const { return factor_text(factor_); }

}  // namespace gantry::train
