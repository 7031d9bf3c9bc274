#include "train/update_policy.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/ops.h"

namespace gantry::train {

const char* batch_selection_name(BatchSelection s) {
  switch (s) {
    case BatchSelection::full: return "full";
    case BatchSelection::top_k: return "top-k";
    case BatchSelection::bottom_k: return "bottom-k";
    case BatchSelection::soft_top_k: return "soft-top-k";
  }
  return "?";
}

BatchSelection parse_batch_selection(const std::string& s) {
  if (s == "full") return BatchSelection::full;
  if (s == "top-k") return BatchSelection::top_k;
  if (s == "bottom-k") return BatchSelection::bottom_k;
  if (s == "soft-top-k") return BatchSelection::soft_top_k;
  GANTRY_FAIL("config: unknown batch selection '", s, "' (expected full, top-k, bottom-k or soft-top-k)");
}


SelectionTarget parse_selection_target(const std::string& text) {
  if (text == "g" || text == "G") return SelectionTarget::generator;
  if (text == "d" || text == "D") return SelectionTarget::critic;
  if (text == "gd" || text == "GD" || text == "G&D" || text == "g&d") return SelectionTarget::both;
  GANTRY_FAIL("top-k: unknown target '", text, "' (expected g, d or gd)");
}

const char* selection_target_name(SelectionTarget target) {
  switch (target) {
    case SelectionTarget::generator: return "G";
    case SelectionTarget::critic: return "D";
    case SelectionTarget::both: return "G&D";
  }
  return "?";
}

Tensor select_k_scores(const Tensor& scores, int64_t k, bool keep_highest) {
  GANTRY_CHECK(scores.defined() && (scores.dim() == 1 || (scores.dim() == 2 && scores.size(1) == 1)),
               "select_k_scores: expected scores of shape [B] or [B, 1], got ",
               scores.defined() ? shape_str(scores.shape()) : std::string("an undefined tensor"));
  const int64_t batch = scores.size(0);
  GANTRY_CHECK(k >= 1 && k <= batch, "select_k_scores: k must be in [1, B = ", batch, "], got ", k);
  const Tensor flat = scores.dim() == 1 ? scores : scores.reshape({batch});
  if (k == batch) return flat;  // keeping everything: skip the sort
  return topk(flat, k, 0, keep_highest).first;
}

TopKPolicy::TopKPolicy(TopKSchedule schedule, SelectionTarget target, bool keep_highest)
    : schedule_(std::move(schedule)), target_(target), keep_highest_(keep_highest) {}

Tensor TopKPolicy::select(const Tensor& fake_scores, bool applies) const {
  if (!applies) return fake_scores;
  GANTRY_CHECK(fake_scores.size(0) == schedule_.batch_size(), "TopKPolicy: the schedule was made for batch ",
               schedule_.batch_size(), " but the fake scores have shape ", shape_str(fake_scores.shape()));
  return select_k_scores(fake_scores, schedule_.k(), keep_highest_);
}

Tensor TopKPolicy::select_for_generator(const Tensor& fake_scores) const {
  return select(fake_scores, target_ != SelectionTarget::critic);
}

Tensor TopKPolicy::select_for_critic(const Tensor& fake_scores) const {
  return select(fake_scores, target_ != SelectionTarget::generator);
}

std::string TopKPolicy::describe() const {
  return std::string(keep_highest_ ? "top-k" : "bottom-k") + " on " + selection_target_name(target_) +
         " (k " + std::to_string(schedule_.k()) + ")";
}

namespace {

// The effective sample size of exp(beta * (s_i - max s)).
double effective_sample_size(const std::vector<double>& s, double top, double beta, std::vector<double>& w) {
  double sum = 0, sum_sq = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    w[i] = std::exp(beta * (s[i] - top));
    sum += w[i];
    sum_sq += w[i] * w[i];
  }
  return sum * sum / sum_sq;
}

}  // namespace

Tensor soft_topk_weights(const Tensor& scores, double k) {
  GANTRY_CHECK(
      scores.defined() && scores.numel() >= 1 && (scores.dim() == 1 || (scores.dim() == 2 && scores.size(1) == 1)),
      "soft_topk_weights: expected scores [B] or [B, 1], got ",
      scores.defined() ? shape_str(scores.shape()) : std::string("an undefined tensor"));
  const int64_t n = scores.size(0);
  GANTRY_CHECK(std::isfinite(k) && k >= 1 && k <= static_cast<double>(n), "soft_topk_weights: k must be in [1, ", n,
               "], got ", k);
  std::vector<double> s;
  {
    NoGradGuard no_grad;
    s = to_vector<double>(scores.detach().reshape({n}).to(kCPU).to(DType::f64).contiguous());
  }
  double top = -std::numeric_limits<double>::infinity(), bottom = std::numeric_limits<double>::infinity();
  for (double v : s) {
    GANTRY_CHECK(std::isfinite(v), "soft_topk_weights: a score is not finite (", v, ")");
    top = std::max(top, v), bottom = std::min(bottom, v);
  }
  std::vector<double> w(s.size(), 1.0);
  // ESS falls from B at beta = 0 toward the number of top-scored ties as beta grows: bisect on beta.
  if (k < static_cast<double>(n) && top > bottom) {
    double lo = 0, hi = 1.0 / (top - bottom);
    while (effective_sample_size(s, top, hi, w) > k && hi < 1e300) lo = hi, hi *= 2;
    for (int it = 0; it < 200 && hi - lo > 1e-12 * hi; ++it) {
      const double mid = 0.5 * (lo + hi);
      (effective_sample_size(s, top, mid, w) > k ? lo : hi) = mid;
    }
    effective_sample_size(s, top, hi, w);
  }
  double sum = 0;
  for (double v : w) sum += v;
  std::vector<float> normalised(w.size());
  for (size_t i = 0; i < w.size(); ++i) normalised[i] = static_cast<float>(w[i] / sum);
  return from_vector(normalised, {n}).to(scores.dtype()).to(scores.device());  // multiplies the scores' terms
}

SoftTopKPolicy::SoftTopKPolicy(TopKSchedule schedule) : schedule_(std::move(schedule)) {}

Tensor SoftTopKPolicy::generator_weights(const Tensor& selected_scores) const {
  GANTRY_CHECK(selected_scores.size(0) == schedule_.batch_size(), "SoftTopKPolicy: the schedule was made for batch ",
               schedule_.batch_size(), " but the fake scores have shape ", shape_str(selected_scores.shape()));
  return soft_topk_weights(selected_scores, schedule_.k_real());
}

std::string SoftTopKPolicy::describe() const {
  return "soft top-k on G (effective k " + std::to_string(schedule_.k()) + ")";
}

}  // namespace gantry::train
