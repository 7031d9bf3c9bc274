// CPU reductions. The output is walked as a broadcast view of the input (stride 0 on reduced dims),
// so one strided pass covers every dim choice: rows along a reduced dim fold into one accumulator,
// rows along a kept dim fold elementwise into the output row (both plain, vectorisable loops).
#include <cmath>
#include <limits>
#include <type_traits>

#include "engine/dispatch/reduce_kernels.h"
#include "kernels/cpu/strided_loop.h"

namespace gantry::cpu {
namespace {

template <typename T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return v != v;
  return false;
}

// Sums accumulate in double for floating types and in int64 otherwise.
template <typename T>
using SumAcc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

struct SumOp {
  template <typename T> static T identity() { return T(0); }
  template <typename A, typename T> static A combine(A acc, T v) { return acc + static_cast<A>(v); }
  template <typename T> using Acc = SumAcc<T>;
};
struct MaxOp {
  template <typename T> static T identity() {
    return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest();
  }
  template <typename A, typename T> static A combine(A acc, T v) { return ((v > acc) | is_nan(v)) ? v : acc; }
  template <typename T> using Acc = T;
};
struct MinOp {
  template <typename T> static T identity() {
    return std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max();
  }
  template <typename A, typename T> static A combine(A acc, T v) { return ((v < acc) | is_nan(v)) ? v : acc; }
  template <typename T> using Acc = T;
};

// Folds a contiguous row into independent lanes (so the loop vectorises without reassociating a
// single accumulator), then folds the lanes.
template <typename T, typename Op>
typename Op::template Acc<T> fold_contiguous(const T* __restrict src, int64_t n) {
  using A = typename Op::template Acc<T>;
  constexpr int64_t kLanes = 16;
  A lanes[kLanes];
  for (A& l : lanes) l = static_cast<A>(Op::template identity<T>());
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t j = 0; j < kLanes; ++j) lanes[j] = Op::combine(lanes[j], src[i + j]);
  for (; i < n; ++i) lanes[0] = Op::combine(lanes[0], src[i]);
  A acc = lanes[0];
  for (int64_t j = 1; j < kLanes; ++j) acc = Op::combine(acc, lanes[j]);
  return acc;
}

Shape broadcast_strides(const Tensor& out, const Shape& shape) {
  Shape st(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) st[d] = out.shape()[d] == shape[d] ? out.strides()[d] : 0;
  return st;
}

// Reduces x into out, whose elements are of type O (T, or the accumulator type for float sums).
template <typename T, typename Op, typename O = T>
void reduce_typed(Tensor& out, const Tensor& x) {
  using A = typename Op::template Acc<T>;
  O* o = out.data_ptr<O>();
  for (int64_t i = 0, n = out.numel(); i < n; ++i) o[i] = static_cast<O>(Op::template identity<T>());
  if (x.numel() == 0) return;
  const Shape out_strides = broadcast_strides(out, x.shape());
  strided_loop<2>(x.shape(), {&out_strides, &x.strides()}, {byte_ptr(out), byte_ptr(x)}, {sizeof(O), sizeof(T)},
                  [&](std::array<char*, 2> p, int64_t n, std::array<int64_t, 2> s) {
                    O* dst = reinterpret_cast<O*>(p[0]);
                    if (s[0] == 0) {  // the row runs along a reduced dim
                      A acc = static_cast<A>(*dst);
                      if (s[1] == sizeof(T)) {
                        acc = Op::combine(acc, fold_contiguous<T, Op>(reinterpret_cast<const T*>(p[1]), n));
                      } else {
                        for (int64_t i = 0; i < n; ++i)
                          acc = Op::combine(acc, *reinterpret_cast<const T*>(p[1] + i * s[1]));
                      }
                      *dst = static_cast<O>(acc);
                    } else if (s[0] == sizeof(O) && s[1] == sizeof(T)) {
                      O* __restrict d = dst;
                      const T* __restrict src = reinterpret_cast<const T*>(p[1]);
                      for (int64_t i = 0; i < n; ++i) d[i] = static_cast<O>(Op::combine(d[i], src[i]));
                    } else {
                      for (int64_t i = 0; i < n; ++i) {
                        O* di = reinterpret_cast<O*>(p[0] + i * s[0]);
                        *di = static_cast<O>(Op::combine(*di, *reinterpret_cast<const T*>(p[1] + i * s[1])));
                      }
                    }
                  });
}

// A float sum keeps its running totals in double until the end: a float output would round them
// after every row (thousands of times for a reduction over strided dims).
void sum_float(Tensor& out, const Tensor& x) {
  Tensor wide = empty(out.shape(), DType::f64, kCPU);
  reduce_typed<float, SumOp, double>(wide, x);
  strided_loop<2>(out.shape(), {&out.strides(), &wide.strides()}, {byte_ptr(out), byte_ptr(wide)},
                  {sizeof(float), sizeof(double)}, [&](std::array<char*, 2> p, int64_t n, std::array<int64_t, 2> s) {
                    for (int64_t i = 0; i < n; ++i)
                      *reinterpret_cast<float*>(p[0] + i * s[0]) =
                          static_cast<float>(*reinterpret_cast<const double*>(p[1] + i * s[1]));
                  });
}

template <typename T>
void reduce_dispatch_op(ReduceOp op, Tensor& out, const Tensor& x) {
  switch (op) {
    case ReduceOp::sum:
      if constexpr (std::is_same_v<T, float>) return sum_float(out, x);
      else return reduce_typed<T, SumOp>(out, x);
    case ReduceOp::amax: return reduce_typed<T, MaxOp>(out, x);
    case ReduceOp::amin: return reduce_typed<T, MinOp>(out, x);
  }
}

void reduce(ReduceOp op, Tensor& out, const Tensor& x) {
  switch (x.dtype()) {
    case DType::f32: return reduce_dispatch_op<float>(op, out, x);
    case DType::f64: return reduce_dispatch_op<double>(op, out, x);
    case DType::i64: return reduce_dispatch_op<int64_t>(op, out, x);
    default: GANTRY_FAIL("reduce kernel: dtype ", dtype_name(x.dtype()), " is not supported");
  }
}

template <typename T, bool kMax>
void arg_reduce_typed(Tensor& values, Tensor& indices, const Tensor& x, int64_t dim) {
  const int64_t n = x.shape()[dim];
  const int64_t step = x.strides()[dim] * static_cast<int64_t>(sizeof(T));
  strided_loop<3>(values.shape(), {&values.strides(), &indices.strides(), &x.strides()},
                  {byte_ptr(values), byte_ptr(indices), byte_ptr(x)}, {sizeof(T), sizeof(int64_t), sizeof(T)},
                  [&](std::array<char*, 3> p, int64_t rows, std::array<int64_t, 3> s) {
                    for (int64_t r = 0; r < rows; ++r) {
                      const char* base = p[2] + r * s[2];
                      T best = *reinterpret_cast<const T*>(base);
                      int64_t best_k = 0;
                      for (int64_t k = 1; k < n && !is_nan(best); ++k) {
                        const T v = *reinterpret_cast<const T*>(base + k * step);
                        if (kMax ? (v > best || is_nan(v)) : (v < best || is_nan(v))) {
                          best = v;
                          best_k = k;
                        }
                      }
                      *reinterpret_cast<T*>(p[0] + r * s[0]) = best;
                      *reinterpret_cast<int64_t*>(p[1] + r * s[1]) = best_k;
                    }
                  });
}

void arg_reduce(ArgReduceOp op, Tensor& values, Tensor& indices, const Tensor& x, int64_t dim) {
  dispatch_all(x.dtype(), "max/min", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (op == ArgReduceOp::max)
      arg_reduce_typed<T, true>(values, indices, x, dim);
    else
      arg_reduce_typed<T, false>(values, indices, x, dim);
  });
}

}  // namespace

GANTRY_REGISTER_KERNEL(reduce_kernel, CPU, &reduce);
GANTRY_REGISTER_KERNEL(arg_reduce_kernel, CPU, &arg_reduce);

}  // namespace gantry::cpu
