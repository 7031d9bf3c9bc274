// Losses. Logits and critic scores follow one convention: higher = more real.
#include <limits>

#include "engine/ops/kernel_calls.h"
#include "engine/ops/ops.h"

namespace gantry {

namespace {

Tensor reduce_loss(const Tensor& per_element, Reduction r) {
  switch (r) {
    case Reduction::mean: return mean(per_element);
    case Reduction::sum: return sum(per_element);
    case Reduction::none: return per_element;
  }
  return per_element;
}

void check_pair(const char* op, const Tensor& x, const Tensor& target) {
  detail::check_floating(op, x);
  detail::check_same_dtype_device(op, x, target);
  GANTRY_CHECK(x.shape() == target.shape(), op, ": input shape ", shape_str(x.shape()),
               " and target shape ", shape_str(target.shape()), " must match");
}

void check_scores(const char* op, const Tensor& scores) {
  detail::check_floating(op, scores);
  GANTRY_CHECK(scores.numel() > 0, op, ": empty score tensor of shape ", shape_str(scores.shape()));
}

constexpr double kNoThreshold = std::numeric_limits<double>::infinity();

// log(1 + exp(x)) without overflow (the softplus kernel is stable for any x without a threshold).
Tensor log1p_exp(const Tensor& x) { return softplus(x, 1.0, kNoThreshold); }

}  // namespace

Tensor bce_with_logits(const Tensor& logits, const Tensor& target, Reduction r) {
  check_pair("bce_with_logits", logits, target);
  // -[t log s(x) + (1 - t) log(1 - s(x))] = log(1 + exp(x)) - t x.
  return reduce_loss(sub(log1p_exp(logits), mul(target, logits)), r);
}

Tensor mse_loss(const Tensor& x, const Tensor& target, Reduction r) {
  check_pair("mse_loss", x, target);
  const Tensor diff = sub(x, target);
  return reduce_loss(mul(diff, diff), r);
}

Tensor ns_d_loss(const Tensor& real_logits, const Tensor& fake_logits) {
  check_scores("ns_d_loss", real_logits);
  check_scores("ns_d_loss", fake_logits);
  detail::check_same_dtype_device("ns_d_loss", real_logits, fake_logits);
  return add(mean(log1p_exp(neg(real_logits))), mean(log1p_exp(fake_logits)));
}

Tensor ns_g_loss(const Tensor& fake_logits) {
  check_scores("ns_g_loss", fake_logits);
  return mean(log1p_exp(neg(fake_logits)));
}

Tensor hinge_d_loss(const Tensor& real_scores, const Tensor& fake_scores) {
  check_scores("hinge_d_loss", real_scores);
  check_scores("hinge_d_loss", fake_scores);
  detail::check_same_dtype_device("hinge_d_loss", real_scores, fake_scores);
  return add(mean(relu(rsub(1.0, real_scores))), mean(relu(add(fake_scores, 1.0))));
}

Tensor hinge_g_loss(const Tensor& fake_scores) {
  check_scores("hinge_g_loss", fake_scores);
  return neg(mean(fake_scores));
}

Tensor wasserstein_d_loss(const Tensor& real_scores, const Tensor& fake_scores) {
  check_scores("wasserstein_d_loss", real_scores);
  check_scores("wasserstein_d_loss", fake_scores);
  detail::check_same_dtype_device("wasserstein_d_loss", real_scores, fake_scores);
  return sub(mean(fake_scores), mean(real_scores));
}

Tensor wasserstein_g_loss(const Tensor& fake_scores) {
  check_scores("wasserstein_g_loss", fake_scores);
  return neg(mean(fake_scores));
}

}  // namespace gantry
