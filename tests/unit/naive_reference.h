#pragma once
// Naive host references for the elementwise-family tests: plain loops over doubles with explicit
// broadcasting index math, independent of the engine's kernels and iterators.
#include <functional>
#include <vector>

#include "engine/ops/ops.h"

namespace gantry::testing {

// Flat index into a row-major tensor of `shape` for the output coordinate of `out_shape` at `flat`,
// with NumPy broadcasting (size-1 and missing leading dims repeat).
inline int64_t broadcast_source_index(const Shape& shape, const Shape& out_shape, int64_t flat) {
  int64_t src = 0, src_stride = 1;
  for (int64_t d = static_cast<int64_t>(out_shape.size()) - 1, s = static_cast<int64_t>(shape.size()) - 1; d >= 0;
       --d, --s) {
    const int64_t coord = flat % out_shape[d];
    flat /= out_shape[d];
    if (s < 0) continue;
    if (shape[s] != 1) src += coord * src_stride;
    src_stride *= shape[s];
  }
  return src;
}

inline Tensor naive_unary(const Tensor& x, const std::function<double(double)>& f) {
  std::vector<double> v = to_vector<double>(x);
  for (double& e : v) e = f(e);
  return from_vector(v, x.shape());
}

inline Tensor naive_binary(const Tensor& a, const Tensor& b, const std::function<double(double, double)>& f) {
  const Shape out_shape = broadcast_shapes(a.shape(), b.shape(), "naive_binary");
  const std::vector<double> va = to_vector<double>(a), vb = to_vector<double>(b);
  std::vector<double> out(static_cast<size_t>(shape_numel(out_shape)));
  for (int64_t i = 0; i < static_cast<int64_t>(out.size()); ++i)
    out[i] = f(va[broadcast_source_index(a.shape(), out_shape, i)], vb[broadcast_source_index(b.shape(), out_shape, i)]);
  return from_vector(out, out_shape);
}

}  // namespace gantry::testing
