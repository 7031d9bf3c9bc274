#include "engine/nn/init.h"

#include <cmath>
#include <vector>

#include "engine/ops/ops.h"

namespace gantry::nn::init {
namespace {

// Writes `values` (same shape, any dtype/device) into `t`'s storage without history.
Tensor assign(const Tensor& t, const Tensor& values) {
  NoGradGuard no_grad;
  Tensor dst = t;  // a handle: writing through it writes t
  copy_(dst, values.device() == t.device() ? values : values.to(t.device()));
  return dst;
}

void check_target(const Tensor& t, const char* op) {
  GANTRY_CHECK(t.defined(), op, ": tensor is undefined");
  GANTRY_CHECK(is_floating(t.dtype()), op, ": expected a floating tensor, got ", dtype_name(t.dtype()));
}

}  // namespace

std::pair<int64_t, int64_t> fans(const Tensor& t) {
  GANTRY_CHECK(t.dim() >= 2, "init: fan in/out needs a tensor with at least 2 dims, got shape ",
               shape_str(t.shape()));
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

double calculate_gain(const std::string& nonlinearity, double param) {
  if (nonlinearity == "linear" || nonlinearity == "conv" || nonlinearity == "sigmoid") return 1.0;
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") return std::sqrt(2.0 / (1.0 + param * param));
  GANTRY_FAIL("calculate_gain: unknown nonlinearity '", nonlinearity,
              "' (linear, conv, sigmoid, tanh, relu, leaky_relu)");
}

Tensor uniform_(const Tensor& t, double lo, double hi, Generator& gen) {
  check_target(t, "uniform_");
  return assign(t, uniform(t.shape(), lo, hi, gen, t.dtype(), t.device()));
}

Tensor normal_(const Tensor& t, double mean, double std, Generator& gen) {
  check_target(t, "normal_");
  return assign(t, normal(t.shape(), mean, std, gen, t.dtype(), t.device()));
}

Tensor zeros_(const Tensor& t) {
  NoGradGuard no_grad;
  Tensor dst = t;
  return fill_(dst, 0.0);
}

Tensor ones_(const Tensor& t) {
  NoGradGuard no_grad;
  Tensor dst = t;
  return fill_(dst, 1.0);
}

Tensor xavier_uniform_(const Tensor& t, Generator& gen, double gain) {
  const auto [fan_in, fan_out] = fans(t);
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  return uniform_(t, -bound, bound, gen);
}

Tensor xavier_normal_(const Tensor& t, Generator& gen, double gain) {
  const auto [fan_in, fan_out] = fans(t);
  return normal_(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)), gen);
}

namespace {
double kaiming_std(const Tensor& t, double a, FanMode mode, const std::string& nonlinearity) {
  const auto [fan_in, fan_out] = fans(t);
  const int64_t fan = mode == FanMode::fan_in ? fan_in : fan_out;
  GANTRY_CHECK(fan > 0, "kaiming init: zero fan for shape ", shape_str(t.shape()));
  return calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
}
}  // namespace

Tensor kaiming_uniform_(const Tensor& t, Generator& gen, double a, FanMode mode, const std::string& nonlinearity) {
  const double bound = std::sqrt(3.0) * kaiming_std(t, a, mode, nonlinearity);
  return uniform_(t, -bound, bound, gen);
}

Tensor kaiming_normal_(const Tensor& t, Generator& gen, double a, FanMode mode, const std::string& nonlinearity) {
  return normal_(t, 0.0, kaiming_std(t, a, mode, nonlinearity), gen);
}

Tensor orthogonal_(const Tensor& t, Generator& gen, double gain) {
  check_target(t, "orthogonal_");
  GANTRY_CHECK(t.dim() >= 2, "orthogonal_: expected at least 2 dims, got shape ", shape_str(t.shape()));
  const int64_t rows = t.size(0), cols = t.numel() / rows;
  // Orthonormalise the columns of a tall Gaussian matrix (transposed when wide) by modified
  // Gram-Schmidt in double; positive diagonal of R matches PyTorch's sign correction q * sign(diag r).
  const bool wide = rows < cols;
  const int64_t m = wide ? cols : rows, n = wide ? rows : cols;  // m x n, m >= n
  std::vector<double> a = to_vector<double>(randn({m, n}, gen, DType::f64, kCPU));
  for (int64_t j = 0; j < n; ++j) {
    for (int pass = 0; pass < 2; ++pass) {  // re-orthogonalise once for accuracy
      for (int64_t k = 0; k < j; ++k) {
        double dot = 0;
        for (int64_t i = 0; i < m; ++i) dot += a[i * n + k] * a[i * n + j];
        for (int64_t i = 0; i < m; ++i) a[i * n + j] -= dot * a[i * n + k];
      }
    }
    double norm = 0;
    for (int64_t i = 0; i < m; ++i) norm += a[i * n + j] * a[i * n + j];
    norm = std::sqrt(norm);
    GANTRY_CHECK(norm > 0, "orthogonal_: degenerate random matrix");
    for (int64_t i = 0; i < m; ++i) a[i * n + j] /= norm;
  }
  std::vector<double> q(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) q[i * cols + j] = gain * (wide ? a[j * n + i] : a[i * n + j]);
  return assign(t, from_vector(q, t.shape()).to(t.dtype()));
}

}  // namespace gantry::nn::init
