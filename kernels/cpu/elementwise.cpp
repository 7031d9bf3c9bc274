// CPU kernels of the elementwise tables (unary, binary, compare, where). Each op is a lambda
// instantiated into its own loop, so the contiguous paths are plain loops the compiler vectorises.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "engine/dispatch/kernels.h"
#include "kernels/cpu/strided_loop.h"

namespace gantry::cpu {
namespace {

template <typename T>
T* at(char* p, int64_t i, int64_t stride) {
  return reinterpret_cast<T*>(p + i * stride);
}

// out[i] = f(x[i]); x is a broadcast view of out's shape.
template <typename T, typename F>
void map_unary(Tensor& out, const Tensor& x, F f) {
  strided_loop<2>(out.shape(), {&out.strides(), &x.strides()}, {byte_ptr(out), byte_ptr(x)}, {sizeof(T), sizeof(T)},
                  [&](std::array<char*, 2> p, int64_t n, std::array<int64_t, 2> s) {
                    if (s[0] == sizeof(T) && s[1] == sizeof(T)) {
                      T* __restrict o = reinterpret_cast<T*>(p[0]);
                      const T* __restrict a = reinterpret_cast<const T*>(p[1]);
                      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i]);
                    } else {
                      for (int64_t i = 0; i < n; ++i) *at<T>(p[0], i, s[0]) = f(*at<T>(p[1], i, s[1]));
                    }
                  });
}

// out[i] = f(a[i], b[i]) with Out possibly differing from In (comparisons write u8).
template <typename Out, typename In, typename F>
void map_binary(Tensor& out, const Tensor& a, const Tensor& b, F f) {
  strided_loop<3>(out.shape(), {&out.strides(), &a.strides(), &b.strides()}, {byte_ptr(out), byte_ptr(a), byte_ptr(b)},
                  {sizeof(Out), sizeof(In), sizeof(In)},
                  [&](std::array<char*, 3> p, int64_t n, std::array<int64_t, 3> s) {
                    Out* __restrict o = reinterpret_cast<Out*>(p[0]);
                    const In* __restrict x = reinterpret_cast<const In*>(p[1]);
                    const In* __restrict y = reinterpret_cast<const In*>(p[2]);
                    if (s[0] == sizeof(Out) && s[1] == sizeof(In) && s[2] == sizeof(In)) {
                      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
                    } else if (s[0] == sizeof(Out) && s[1] == sizeof(In) && s[2] == 0) {
                      const In yv = *y;
                      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
                    } else if (s[0] == sizeof(Out) && s[1] == 0 && s[2] == sizeof(In)) {
                      const In xv = *x;
                      for (int64_t i = 0; i < n; ++i) o[i] = f(xv, y[i]);
                    } else {
                      for (int64_t i = 0; i < n; ++i)
                        *at<Out>(p[0], i, s[0]) = f(*at<In>(p[1], i, s[1]), *at<In>(p[2], i, s[2]));
                    }
                  });
}

// A double parameter as T; infinities clamp to T's range for integer types.
template <typename T>
T param_as(double v) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  }
}

// (1/beta) log(1 + exp(beta x)), written so it neither overflows nor loses precision for large |x|;
// above the threshold (in beta x) it is x, as in torch.nn.functional.softplus.
template <typename T>
T softplus_value(T x, T beta, T threshold) {
  const T bx = beta * x;
  if (bx > threshold) return x;
  return (std::max(bx, T(0)) + std::log1p(std::exp(-std::abs(bx)))) / beta;
}

template <typename T>
T pow_value(T x, T e) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::pow(x, e);
  } else {
    if (e < 0) return x == 1 ? T(1) : (x == -1 ? (e % 2 == 0 ? T(1) : T(-1)) : T(0));
    T r = 1;
    for (T base = x; e > 0; e >>= 1, base *= base)
      if (e & 1) r *= base;
    return r;
  }
}

template <typename T>
void unary_typed(UnaryOp op, UnaryParams prm, Tensor& out, const Tensor& x) {
  const T alpha = param_as<T>(prm.alpha), beta = param_as<T>(prm.beta);
  switch (op) {
    case UnaryOp::neg: return map_unary<T>(out, x, [](T v) { return T(-v); });
    case UnaryOp::abs: return map_unary<T>(out, x, [](T v) { return v < 0 ? T(-v) : v; });
    case UnaryOp::sign: return map_unary<T>(out, x, [](T v) { return T((v > 0) - (v < 0)); });
    case UnaryOp::relu: return map_unary<T>(out, x, [](T v) { return v > 0 ? v : T(0); });
    // Branch-free so the loop vectorises (a conditional multiply is not if-converted under strict FP).
    case UnaryOp::leaky_relu:
      return map_unary<T>(out, x, [=](T v) { return T(std::max(v, T(0)) + alpha * std::min(v, T(0))); });
    case UnaryOp::clamp: return map_unary<T>(out, x, [=](T v) { return std::min(std::max(v, alpha), beta); });
    case UnaryOp::add_scalar: return map_unary<T>(out, x, [=](T v) { return T(v + alpha); });
    case UnaryOp::mul_scalar: return map_unary<T>(out, x, [=](T v) { return T(v * alpha); });
    case UnaryOp::rsub_scalar: return map_unary<T>(out, x, [=](T v) { return T(alpha - v); });
    case UnaryOp::step: return map_unary<T>(out, x, [=](T v) { return v > alpha ? T(1) : beta; });
    default: break;
  }
  if constexpr (std::is_floating_point_v<T>) {
    switch (op) {
      case UnaryOp::exp: return map_unary<T>(out, x, [](T v) { return std::exp(v); });
      case UnaryOp::log: return map_unary<T>(out, x, [](T v) { return std::log(v); });
      case UnaryOp::sqrt: return map_unary<T>(out, x, [](T v) { return std::sqrt(v); });
      case UnaryOp::tanh: return map_unary<T>(out, x, [](T v) { return std::tanh(v); });
      case UnaryOp::sigmoid: return map_unary<T>(out, x, [](T v) { return T(1) / (T(1) + std::exp(-v)); });
      case UnaryOp::rdiv_scalar: return map_unary<T>(out, x, [=](T v) { return alpha / v; });
      case UnaryOp::softplus:
        // alpha = threshold, beta = beta (see UnaryOp::softplus).
        return map_unary<T>(out, x, [=](T v) { return softplus_value(v, beta, alpha); });
      case UnaryOp::pow_scalar:
        // Common exponents get exact forms (and a vectorisable loop).
        if (prm.alpha == 2.0) return map_unary<T>(out, x, [](T v) { return v * v; });
        if (prm.alpha == 3.0) return map_unary<T>(out, x, [](T v) { return v * v * v; });
        if (prm.alpha == 1.0) return map_unary<T>(out, x, [](T v) { return v; });
        if (prm.alpha == 0.5) return map_unary<T>(out, x, [](T v) { return std::sqrt(v); });
        if (prm.alpha == -1.0) return map_unary<T>(out, x, [](T v) { return T(1) / v; });
        return map_unary<T>(out, x, [=](T v) { return std::pow(v, alpha); });
      default: break;
    }
  } else if (op == UnaryOp::pow_scalar && prm.alpha >= 0 && prm.alpha == std::floor(prm.alpha)) {
    const T e = static_cast<T>(prm.alpha);
    return map_unary<T>(out, x, [=](T v) { return pow_value(v, e); });
  }
  GANTRY_FAIL("unary kernel: op ", static_cast<int>(op), " is not supported for dtype ", dtype_name(out.dtype()));
}

void unary(UnaryOp op, UnaryParams p, Tensor& out, const Tensor& x) {
  switch (out.dtype()) {
    case DType::f32: return unary_typed<float>(op, p, out, x);
    case DType::f64: return unary_typed<double>(op, p, out, x);
    case DType::i64: return unary_typed<int64_t>(op, p, out, x);
    default: GANTRY_FAIL("unary kernel: dtype ", dtype_name(out.dtype()), " is not supported");
  }
}

template <typename T>
void binary_typed(BinaryOp op, BinaryParams prm, Tensor& out, const Tensor& a, const Tensor& b) {
  switch (op) {
    case BinaryOp::add: return map_binary<T, T>(out, a, b, [](T x, T y) { return T(x + y); });
    case BinaryOp::sub: return map_binary<T, T>(out, a, b, [](T x, T y) { return T(x - y); });
    case BinaryOp::mul: return map_binary<T, T>(out, a, b, [](T x, T y) { return T(x * y); });
    case BinaryOp::div:
      if constexpr (std::is_floating_point_v<T>) {
        return map_binary<T, T>(out, a, b, [](T x, T y) { return x / y; });
      } else {
        return map_binary<T, T>(out, a, b, [](T x, T y) { return y == 0 ? T(0) : T(x / y); });
      }
    case BinaryOp::pow: return map_binary<T, T>(out, a, b, [](T x, T y) { return pow_value(x, y); });
    // NaN propagates, as in torch.maximum/minimum.
    case BinaryOp::maximum:
      return map_binary<T, T>(out, a, b, [](T x, T y) { return (x > y || x != x) ? x : y; });
    case BinaryOp::minimum:
      return map_binary<T, T>(out, a, b, [](T x, T y) { return (x < y || x != x) ? x : y; });
    case BinaryOp::gate: {  // the same values as a * step(b), without the mask's pass and buffer
      const T slope = param_as<T>(prm.alpha);
      return map_binary<T, T>(out, a, b, [=](T x, T y) { return y > 0 ? x : T(slope * x); });
    }
  }
}

void binary(BinaryOp op, BinaryParams p, Tensor& out, const Tensor& a, const Tensor& b) {
  dispatch_all(out.dtype(), "binary kernel", [&](auto tag) {
    using T = typename decltype(tag)::type;
    binary_typed<T>(op, p, out, a, b);
  });
}

void compare(CompareOp op, Tensor& out, const Tensor& a, const Tensor& b) {
  dispatch_all(a.dtype(), "compare kernel", [&](auto tag) {
    using T = typename decltype(tag)::type;
    switch (op) {
      case CompareOp::gt: return map_binary<uint8_t, T>(out, a, b, [](T x, T y) { return uint8_t(x > y); });
      case CompareOp::ge: return map_binary<uint8_t, T>(out, a, b, [](T x, T y) { return uint8_t(x >= y); });
      case CompareOp::lt: return map_binary<uint8_t, T>(out, a, b, [](T x, T y) { return uint8_t(x < y); });
      case CompareOp::le: return map_binary<uint8_t, T>(out, a, b, [](T x, T y) { return uint8_t(x <= y); });
      case CompareOp::eq: return map_binary<uint8_t, T>(out, a, b, [](T x, T y) { return uint8_t(x == y); });
      case CompareOp::ne: return map_binary<uint8_t, T>(out, a, b, [](T x, T y) { return uint8_t(x != y); });
    }
  });
}

void where(Tensor& out, const Tensor& mask, const Tensor& a, const Tensor& b) {
  dispatch_all(out.dtype(), "where kernel", [&](auto tag) {
    using T = typename decltype(tag)::type;
    strided_loop<4>(out.shape(), {&out.strides(), &mask.strides(), &a.strides(), &b.strides()},
                    {byte_ptr(out), byte_ptr(mask), byte_ptr(a), byte_ptr(b)}, {sizeof(T), 1, sizeof(T), sizeof(T)},
                    [&](std::array<char*, 4> p, int64_t n, std::array<int64_t, 4> s) {
                      if (s[0] == sizeof(T) && s[1] == 1 && s[2] == sizeof(T) && s[3] == sizeof(T)) {
                        T* __restrict o = reinterpret_cast<T*>(p[0]);
                        const uint8_t* __restrict m = reinterpret_cast<const uint8_t*>(p[1]);
                        const T* __restrict x = reinterpret_cast<const T*>(p[2]);
                        const T* __restrict y = reinterpret_cast<const T*>(p[3]);
                        for (int64_t i = 0; i < n; ++i) o[i] = m[i] ? x[i] : y[i];
                      } else {
                        for (int64_t i = 0; i < n; ++i)
                          *at<T>(p[0], i, s[0]) = *at<uint8_t>(p[1], i, s[1]) ? *at<T>(p[2], i, s[2])
                                                                             : *at<T>(p[3], i, s[3]);
                      }
                    });
  });
}

}  // namespace

GANTRY_REGISTER_KERNEL(unary_kernel, CPU, &unary);
GANTRY_REGISTER_KERNEL(binary_kernel, CPU, &binary);
GANTRY_REGISTER_KERNEL(compare_kernel, CPU, &compare);
GANTRY_REGISTER_KERNEL(where_kernel, CPU, &where);

}  // namespace gantry::cpu
