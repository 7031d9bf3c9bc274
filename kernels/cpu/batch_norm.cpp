// CPU training-mode batch normalisation: statistics in two passes per channel (mean, then the centred
// sum of squares, accumulated in double), the normalised affine output in a third; the backward reads
// g and x once for the two channel sums and once more to write grad_x. The composite of mean, sub, mul,
// sqrt and div that the op falls back to makes about ten passes each way.
#include <cmath>

#include "engine/dispatch/norm_kernels.h"

namespace gantry::cpu {
namespace {

struct BatchNormDims {
  int64_t n, c, s;
  int64_t count() const { return n * s; }
};

BatchNormDims dims_of(const Tensor& x) {
  int64_t s = 1;
  for (int64_t d = 2; d < x.dim(); ++d) s *= x.shape()[d];
  return {x.shape()[0], x.shape()[1], s};
}

// sum of f(j) for j < n in double, with eight independent partial sums so that the loop vectorises.
template <typename F>
double sum_of(int64_t n, F&& f) {
  double lanes[8] = {};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int k = 0; k < 8; ++k) lanes[k] += f(j + k);
  double total = 0;
  for (; j < n; ++j) total += f(j);
  for (const double l : lanes) total += l;
  return total;
}

template <typename T>
void forward_impl(Tensor& out, Tensor& mean, Tensor& var, const Tensor& x, const Tensor& weight, const Tensor& bias,
                  double eps) {
  const BatchNormDims d = dims_of(x);
  const T* xp = x.data_ptr<T>();
  T* op = out.data_ptr<T>();
  const T* wp = weight.defined() ? weight.data_ptr<T>() : nullptr;
  const T* bp = bias.defined() ? bias.data_ptr<T>() : nullptr;
  const double m = static_cast<double>(d.count());
  for (int64_t ch = 0; ch < d.c; ++ch) {
    double sum = 0;
    for (int64_t i = 0; i < d.n; ++i) {
      const T* row = xp + (i * d.c + ch) * d.s;
      sum += sum_of(d.s, [&](int64_t j) { return static_cast<double>(row[j]); });
    }
    const double mu = sum / m;
    double sq = 0;
    for (int64_t i = 0; i < d.n; ++i) {
      const T* row = xp + (i * d.c + ch) * d.s;
      sq += sum_of(d.s, [&](int64_t j) {
        const double c = row[j] - mu;
        return c * c;
      });
    }
    const double v = sq / m, invstd = 1.0 / std::sqrt(v + eps);
    mean.data_ptr<T>()[ch] = static_cast<T>(mu);
    var.data_ptr<T>()[ch] = static_cast<T>(v);
    const T scale = static_cast<T>(wp ? wp[ch] * invstd : invstd);
    const T shift = static_cast<T>((bp ? bp[ch] : 0.0) - mu * static_cast<double>(scale));
    for (int64_t i = 0; i < d.n; ++i) {
      const T* src = xp + (i * d.c + ch) * d.s;
      T* dst = op + (i * d.c + ch) * d.s;
      for (int64_t j = 0; j < d.s; ++j) dst[j] = src[j] * scale + shift;
    }
  }
}

template <typename T>
void backward_impl(Tensor& grad_x, Tensor& grad_weight, Tensor& grad_bias, const Tensor& grad_out, const Tensor& x,
                   const Tensor& mean, const Tensor& var, const Tensor& weight, double eps) {
  const BatchNormDims d = dims_of(x);
  const T* xp = x.data_ptr<T>();
  const T* gp = grad_out.data_ptr<T>();
  const T* wp = weight.defined() ? weight.data_ptr<T>() : nullptr;
  const double m = static_cast<double>(d.count());
  for (int64_t ch = 0; ch < d.c; ++ch) {
    const double mu = mean.data_ptr<T>()[ch],
                 invstd = 1.0 / std::sqrt(static_cast<double>(var.data_ptr<T>()[ch]) + eps);
    double sum_g = 0, sum_gc = 0;  // sum g and sum g (x - mean)
    for (int64_t i = 0; i < d.n; ++i) {
      const T* xr = xp + (i * d.c + ch) * d.s;
      const T* gr = gp + (i * d.c + ch) * d.s;
      sum_g += sum_of(d.s, [&](int64_t j) { return static_cast<double>(gr[j]); });
      sum_gc += sum_of(d.s, [&](int64_t j) { return static_cast<double>(gr[j]) * (xr[j] - mu); });
    }
    const double sum_gxhat = sum_gc * invstd;
    if (grad_bias.defined()) grad_bias.data_ptr<T>()[ch] = static_cast<T>(sum_g);
    if (grad_weight.defined()) grad_weight.data_ptr<T>()[ch] = static_cast<T>(sum_gxhat);
    if (!grad_x.defined()) continue;
    // grad_x = a g + b x + c with a = w invstd, b = -a invstd^2 sum(g (x - mean)) / M, c = -a sum g / M - b mean
    const double a = (wp ? wp[ch] : 1.0) * invstd;
    const double b = -a * invstd * invstd * sum_gc / m;
    const double c = -a * sum_g / m - b * mu;
    const T ta = static_cast<T>(a), tb = static_cast<T>(b), tc = static_cast<T>(c);
    T* gxp = grad_x.data_ptr<T>();
    for (int64_t i = 0; i < d.n; ++i) {
      const T* xr = xp + (i * d.c + ch) * d.s;
      const T* gr = gp + (i * d.c + ch) * d.s;
      T* dst = gxp + (i * d.c + ch) * d.s;
      for (int64_t j = 0; j < d.s; ++j) dst[j] = ta * gr[j] + tb * xr[j] + tc;
    }
  }
}

void batch_norm_forward(Tensor& out, Tensor& mean, Tensor& var, const Tensor& x, const Tensor& weight,
                        const Tensor& bias, double eps) {
  dispatch_floating(x.dtype(), "batch_norm", [&](auto tag) {
    forward_impl<typename decltype(tag)::type>(out, mean, var, x, weight, bias, eps);
  });
}

void batch_norm_backward(Tensor& grad_x, Tensor& grad_weight, Tensor& grad_bias, const Tensor& grad_out,
                         const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& weight, double eps) {
  dispatch_floating(x.dtype(), "batch_norm_backward", [&](auto tag) {
    backward_impl<typename decltype(tag)::type>(grad_x, grad_weight, grad_bias, grad_out, x, mean, var, weight, eps);
  });
}

}  // namespace

GANTRY_REGISTER_KERNEL(batch_norm_forward_kernel, CPU, &batch_norm_forward);
GANTRY_REGISTER_KERNEL(batch_norm_backward_kernel, CPU, &batch_norm_backward);

}  // namespace gantry::cpu
