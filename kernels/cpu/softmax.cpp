// CPU softmax / log_softmax: one pass for the slice maximum, one for the sum of exponentials
// (accumulated in double), one to write the result.
#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/dispatch/softmax_kernels.h"
#include "kernels/cpu/strided_loop.h"

namespace gantry::cpu {
namespace {

template <typename T>
void softmax_slice(T* out, int64_t os, const T* x, int64_t xs, int64_t n, bool log) {
  if (n == 0) return;
  T max_value = -std::numeric_limits<T>::infinity();
  for (int64_t i = 0; i < n; ++i) max_value = std::max(max_value, x[i * xs]);
  if (std::isnan(max_value) || std::isinf(max_value)) max_value = 0;  // keep NaN/inf flowing as torch does
  double total = 0;
  for (int64_t i = 0; i < n; ++i) total += std::exp(static_cast<double>(x[i * xs] - max_value));
  if (log) {
    const T log_total = static_cast<T>(std::log(total));
    for (int64_t i = 0; i < n; ++i) out[i * os] = x[i * xs] - max_value - log_total;
  } else {
    const T inv_total = static_cast<T>(1.0 / total);
    for (int64_t i = 0; i < n; ++i) out[i * os] = std::exp(x[i * xs] - max_value) * inv_total;
  }
}

void softmax(Tensor& out, const Tensor& x, int64_t dim, bool log) {
  const int64_t n = x.shape()[dim], xs = x.strides()[dim], os = out.strides()[dim];
  Shape outer = x.shape(), x_st = x.strides(), o_st = out.strides();
  outer.erase(outer.begin() + dim);
  x_st.erase(x_st.begin() + dim);
  o_st.erase(o_st.begin() + dim);
  dispatch_floating(x.dtype(), log ? "log_softmax" : "softmax", [&](auto tag) {
    using T = typename decltype(tag)::type;
    strided_loop<2>(outer, {&o_st, &x_st}, {byte_ptr(out), byte_ptr(x)}, {sizeof(T), sizeof(T)},
                    [&](std::array<char*, 2> p, int64_t rows, std::array<int64_t, 2> s) {
                      for (int64_t r = 0; r < rows; ++r)
                        softmax_slice(reinterpret_cast<T*>(p[0] + r * s[0]), os,
                                      reinterpret_cast<const T*>(p[1] + r * s[1]), xs, n, log);
                    });
  });
}

}  // namespace

GANTRY_REGISTER_KERNEL(softmax_kernel, CPU, &softmax);

}  // namespace gantry::cpu
