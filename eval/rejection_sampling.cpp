#include "eval/rejection_sampling.h"

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"
#include "engine/ops/ops.h"
#include "engine/random/generator.h"

namespace gantry::eval {

void RejectionSamplingOptions::validate() const {
  GANTRY_CHECK(gamma_percentile >= 0 && gamma_percentile <= 100, "--drs-percentile: must be in [0, 100], got ",
               gamma_percentile);
  GANTRY_CHECK(!gamma || std::isfinite(*gamma), "--drs-gamma: must be finite, got ", gamma.value_or(0));
  GANTRY_CHECK(std::isfinite(epsilon) && epsilon > 0, "rejection sampling: epsilon must be > 0, got ", epsilon);
  GANTRY_CHECK(burn_in >= 1, "--drs-burn-in: must be >= 1, got ", burn_in);
  GANTRY_CHECK(batch >= 1, "rejection sampling: batch must be >= 1, got ", batch);
  GANTRY_CHECK(max_proposals >= 1, "rejection sampling: max_proposals must be >= 1, got ", max_proposals);
}

std::vector<double> drs_scores(const std::vector<double>& logits, double max_logit, double epsilon) {
  std::vector<double> f(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) {
    const double d = logits[i] - max_logit;
    GANTRY_CHECK(d <= 0, "drs_scores: logit ", logits[i], " is above the max ", max_logit);
    f[i] = d - std::log1p(-std::exp(d - epsilon));
  }
  return f;
}

namespace {

std::vector<double> logits_of(const std::function<Tensor(const Tensor&)>& logits, const Tensor& x) {
  const Tensor l = logits(x);
  GANTRY_CHECK(l.defined() && l.size(0) == x.size(0) && l.numel() == x.size(0),
               "rejection sampling: the critic must give one logit per sample, got ",
               l.defined() ? shape_str(l.shape()) : std::string("nothing"), " for ", x.size(0), " samples");
  std::vector<double> v = to_vector<double>(l.to(kCPU).to(DType::f64).contiguous());
  for (double s : v) GANTRY_CHECK(std::isfinite(s), "rejection sampling: the critic gave a non-finite logit (", s, ")");
  return v;
}

// The value below which `percentile`% of v lies (linear interpolation between order statistics).
double percentile_of(std::vector<double> v, double percentile) {
  std::sort(v.begin(), v.end());
  const double pos = percentile / 100.0 * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace

RejectionSamplingResult discriminator_rejection_sample(const std::function<Tensor(int64_t)>& propose,
                                                       const std::function<Tensor(const Tensor&)>& logits,
                                                       int64_t count, const RejectionSamplingOptions& options,
                                                       Generator& rng) {
  options.validate();
  GANTRY_CHECK(count >= 1, "rejection sampling: count must be >= 1, got ", count);
  RejectionSamplingResult r;
  {
    const std::vector<double> burn = logits_of(logits, propose(options.burn_in));
    r.max_logit = *std::max_element(burn.begin(), burn.end());
  }
  std::vector<Tensor> kept;
  while (r.accepted < count) {
    GANTRY_CHECK(r.proposed < options.max_proposals, "rejection sampling: only ", r.accepted, " of ", count,
                 " samples accepted after ", r.proposed, " proposals (acceptance rate ", r.acceptance_rate(),
                 "); lower --drs-percentile to accept more");
    const Tensor x = propose(options.batch);
    const std::vector<double> l = logits_of(logits, x);
    r.max_logit = std::max(r.max_logit, *std::max_element(l.begin(), l.end()));
    const std::vector<double> f = drs_scores(l, r.max_logit, options.epsilon);
    const double gamma = options.gamma ? *options.gamma : percentile_of(f, options.gamma_percentile);
    const std::vector<double> u = to_vector<double>(rand({options.batch}, rng, DType::f64));
    std::vector<int64_t> accept;
    int64_t examined = 0;  // the proposals looked at: the rest of the last batch is not needed
    for (int64_t i = 0; i < options.batch && r.accepted + static_cast<int64_t>(accept.size()) < count; ++i) {
      examined = i + 1;
      if (u[i] < 1.0 / (1.0 + std::exp(-(f[i] - gamma)))) accept.push_back(i);
    }
    r.proposed += examined;
    if (accept.empty()) continue;
    kept.push_back(index_select(x, 0, from_vector(accept, {static_cast<int64_t>(accept.size())}).to(x.device())));
    r.accepted += static_cast<int64_t>(accept.size());
  }
  r.samples = kept.size() == 1 ? kept.front() : cat(kept, 0);
  return r;
}

}  // namespace gantry::eval
