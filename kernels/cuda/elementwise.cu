// CUDA fill, copy (strided, with dtype cast), cross-device copy, unary, binary, compare and where
// kernels, all through the one launcher of tensor_iter.cuh. Each functor switches on the op at run
// time: the switch is uniform across a warp, so it costs nothing next to the memory traffic and keeps
// the number of kernel instantiations (and build time) small.
#include <cuda_runtime.h>

#include <cmath>
#include <limits>
#include <type_traits>

#include "engine/dispatch/kernels.h"
#include "kernels/cuda/runtime.h"
#include "kernels/cuda/tensor_iter.cuh"

namespace gantry::cuda {
namespace {

template <typename T>
__device__ __forceinline__ bool is_nan(T x) {
  if constexpr (std::is_floating_point_v<T>) return x != x;
  else return false;
}

template <typename T>
struct FillFn {
  T value;
  __device__ T operator()() const { return value; }
};

template <typename D, typename S>
struct CastFn {
  __device__ D operator()(S x) const { return static_cast<D>(x); }
};

// Integer x^e for e >= 0 by squaring; negative e as the CPU defines it (1, -1 or 0).
template <typename T>
__device__ __forceinline__ T int_pow(T x, T e) {
  if constexpr (std::is_signed_v<T>)
    if (e < 0) return x == 1 ? T(1) : (x == -1 ? (e % 2 == 0 ? T(1) : T(-1)) : T(0));
  T r = 1;
  for (T base = x; e > 0; e >>= 1, base *= base)
    if (e & 1) r *= base;
  return r;
}

// The same per-element formulas as kernels/cpu/elementwise.cpp, so both devices agree to rounding.
template <typename T>
struct UnaryFn {
  UnaryOp op;
  T alpha, beta;  // converted like the CPU does (saturating for integers)

  __device__ T operator()(T x) const {
    switch (op) {
      case UnaryOp::neg: return T(-x);
      case UnaryOp::abs: return x < T(0) ? T(-x) : x;
      case UnaryOp::sign: return T((x > T(0)) - (x < T(0)));
      case UnaryOp::relu: return x > T(0) ? x : T(0);
      case UnaryOp::leaky_relu: return T((x > T(0) ? x : T(0)) + alpha * (x < T(0) ? x : T(0)));
      case UnaryOp::clamp: {
        const T lo = x < alpha ? alpha : x;  // std::min(std::max(x, alpha), beta)
        return beta < lo ? beta : lo;
      }
      case UnaryOp::add_scalar: return T(x + alpha);
      case UnaryOp::mul_scalar: return T(x * alpha);
      case UnaryOp::rsub_scalar: return T(alpha - x);
      case UnaryOp::step: return x > alpha ? T(1) : beta;
      default: break;
    }
    if constexpr (std::is_floating_point_v<T>) {
      switch (op) {
        case UnaryOp::exp: return ::exp(x);
        case UnaryOp::log: return ::log(x);
        case UnaryOp::sqrt: return ::sqrt(x);
        case UnaryOp::tanh: return ::tanh(x);
        case UnaryOp::sigmoid: return T(1) / (T(1) + ::exp(-x));
        case UnaryOp::rdiv_scalar: return alpha / x;
        case UnaryOp::softplus: {  // alpha = threshold, beta = scale; stable form, linear above the threshold
          const T bx = beta * x;
          if (bx > alpha) return x;
          return ((bx > T(0) ? bx : T(0)) + ::log1p(::exp(-::fabs(bx)))) / beta;
        }
        case UnaryOp::pow_scalar:
          if (alpha == T(2)) return x * x;
          if (alpha == T(3)) return x * x * x;
          if (alpha == T(1)) return x;
          if (alpha == T(0.5)) return ::sqrt(x);
          if (alpha == T(-1)) return T(1) / x;
          return ::pow(x, alpha);
        default: break;
      }
    } else {
      if (op == UnaryOp::pow_scalar) return int_pow(x, alpha);
    }
    return x;  // unreachable: the host refuses unsupported (op, dtype) pairs
  }
};

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

// Integer tensors support the ops that stay in the integers (as on the CPU).
bool unary_supports_integers(UnaryOp op, const UnaryParams& p) {
  switch (op) {
    case UnaryOp::neg: case UnaryOp::abs: case UnaryOp::sign: case UnaryOp::relu: case UnaryOp::leaky_relu:
    case UnaryOp::clamp: case UnaryOp::add_scalar: case UnaryOp::mul_scalar: case UnaryOp::rsub_scalar:
    case UnaryOp::step:
      return true;
    case UnaryOp::pow_scalar: return p.alpha >= 0 && p.alpha == std::floor(p.alpha);
    default: return false;
  }
}

template <typename T>
struct BinaryFn {
  BinaryOp op;
  T alpha;
  __device__ T operator()(T a, T b) const {
    switch (op) {
      case BinaryOp::add: return a + b;
      case BinaryOp::sub: return a - b;
      case BinaryOp::mul: return a * b;
      case BinaryOp::div:
        if constexpr (std::is_floating_point_v<T>) return a / b;
        else return b == T(0) ? T(0) : static_cast<T>(a / b);  // no trap on the device
      case BinaryOp::pow:
        if constexpr (std::is_floating_point_v<T>) return ::pow(a, b);
        else return int_pow(a, b);
      case BinaryOp::maximum: return (a > b || is_nan(a)) ? a : b;  // NaN propagates (either side)
      case BinaryOp::minimum: return (a < b || is_nan(a)) ? a : b;
      case BinaryOp::gate: return b > T(0) ? a : static_cast<T>(alpha * a);
    }
    return a;
  }
};

template <typename T>
struct CompareFn {
  CompareOp op;
  __device__ uint8_t operator()(T a, T b) const {
    switch (op) {
      case CompareOp::gt: return a > b;
      case CompareOp::ge: return a >= b;
      case CompareOp::lt: return a < b;
      case CompareOp::le: return a <= b;
      case CompareOp::eq: return a == b;
      case CompareOp::ne: return a != b;
    }
    return 0;
  }
};

template <typename T>
struct WhereFn {
  __device__ T operator()(uint8_t mask, T a, T b) const { return mask ? a : b; }
};

void check_same_device(const char* op, const Tensor& out, std::initializer_list<const Tensor*> inputs) {
  check_device(out.device(), op);
  for (const Tensor* t : inputs)
    GANTRY_CHECK(t->device() == out.device(), op, ": input on ", t->device().str(), " but output on ",
                 out.device().str(), "; move tensors explicitly with to(device)");
}

void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  GANTRY_CHECK(a.dtype() == b.dtype(), op, ": dtype mismatch ", dtype_name(a.dtype()), " vs ", dtype_name(b.dtype()));
}

void cuda_fill(Tensor& dst, double value) {
  check_same_device("fill", dst, {});
  dispatch_all(dst.dtype(), "fill", [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<T>(dst, {}, FillFn<T>{static_cast<T>(value)}, "fill");
  });
}

void cuda_copy(Tensor& dst, const Tensor& src) {
  check_same_device("copy", dst, {&src});
  GANTRY_CHECK(dst.shape() == src.shape(), "copy: shape mismatch ", shape_str(dst.shape()), " vs ",
               shape_str(src.shape()));
  if (dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous()) {
    if (dst.nbytes() == 0 || dst.raw_data() == src.raw_data()) return;
    DeviceGuard guard(dst.device());
    GANTRY_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), dst.nbytes(), cudaMemcpyDeviceToDevice,
                                      current_stream(dst.device().index)));
    return;
  }
  dispatch_all(dst.dtype(), "copy", [&](auto dtag) {
    using D = typename decltype(dtag)::type;
    dispatch_all(src.dtype(), "copy", [&](auto stag) {
      using S = typename decltype(stag)::type;
      launch_elementwise<D, S>(dst, {&src}, CastFn<D, S>{}, "copy");
    });
  });
}

// cpu<->cuda:N and cuda:M<->cuda:N; both contiguous, same dtype (checked by Tensor::to).
void cuda_cross_device_copy(Tensor& dst, const Tensor& src) {
  GANTRY_CHECK(dst.is_contiguous() && src.is_contiguous() && dst.nbytes() == src.nbytes(),
               "cross-device copy: expected contiguous tensors of equal size, got ", shape_str(dst.shape()), " (",
               dtype_name(dst.dtype()), ") and ", shape_str(src.shape()), " (", dtype_name(src.dtype()), ")");
  const size_t nbytes = dst.nbytes();
  if (nbytes == 0) return;
  const Device to = dst.device(), from = src.device();
  if (to.is_cuda()) check_device(to, "to(device)");
  if (from.is_cuda()) check_device(from, "to(device)");
  if (from.is_cpu()) {
    copy_host_to_device(dst.raw_data(), src.raw_data(), nbytes, to.index);
  } else if (to.is_cpu()) {
    copy_device_to_host(dst.raw_data(), src.raw_data(), nbytes, from.index);
  } else {
    // Order after pending work on the source's stream, copy on the destination's stream, then wait:
    // Tensor::to returns a tensor that is ready on both devices.
    GANTRY_CUDA_CHECK(cudaStreamSynchronize(current_stream(from.index)));
    DeviceGuard guard(to);
    const cudaStream_t stream = current_stream(to.index);
    GANTRY_CUDA_CHECK(cudaMemcpyPeerAsync(dst.raw_data(), to.index, src.raw_data(), from.index, nbytes, stream));
    GANTRY_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
}

void cuda_unary(UnaryOp op, UnaryParams p, Tensor& out, const Tensor& x) {
  check_same_device("unary", out, {&x});
  check_same_dtype("unary", out, x);
  GANTRY_CHECK(is_floating(out.dtype()) || unary_supports_integers(op, p), "unary kernel: op ", static_cast<int>(op),
               " is not supported for dtype ", dtype_name(out.dtype()));
  auto launch = [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<T, T>(out, {&x}, UnaryFn<T>{op, param_as<T>(p.alpha), param_as<T>(p.beta)}, "unary");
  };
  switch (out.dtype()) {
    case DType::f32: return launch(type_tag<float>{});
    case DType::f64: return launch(type_tag<double>{});
    case DType::i64: return launch(type_tag<int64_t>{});
    default: GANTRY_FAIL("unary kernel: dtype ", dtype_name(out.dtype()), " is not supported");
  }
}

void cuda_binary(BinaryOp op, BinaryParams p, Tensor& out, const Tensor& a, const Tensor& b) {
  check_same_device("binary", out, {&a, &b});
  check_same_dtype("binary", out, a);
  check_same_dtype("binary", out, b);
  dispatch_all(out.dtype(), "binary", [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<T, T, T>(out, {&a, &b}, BinaryFn<T>{op, static_cast<T>(p.alpha)}, "binary");
  });
}

void cuda_compare(CompareOp op, Tensor& out, const Tensor& a, const Tensor& b) {
  check_same_device("compare", out, {&a, &b});
  check_same_dtype("compare", a, b);
  GANTRY_CHECK(out.dtype() == DType::u8, "compare: output must be uint8, got ", dtype_name(out.dtype()));
  dispatch_all(a.dtype(), "compare", [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<uint8_t, T, T>(out, {&a, &b}, CompareFn<T>{op}, "compare");
  });
}

void cuda_where(Tensor& out, const Tensor& mask, const Tensor& a, const Tensor& b) {
  check_same_device("where", out, {&mask, &a, &b});
  GANTRY_CHECK(mask.dtype() == DType::u8, "where: mask must be uint8, got ", dtype_name(mask.dtype()));
  check_same_dtype("where", out, a);
  check_same_dtype("where", out, b);
  dispatch_all(out.dtype(), "where", [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<T, uint8_t, T, T>(out, {&mask, &a, &b}, WhereFn<T>{}, "where");
  });
}

}  // namespace

GANTRY_REGISTER_KERNEL(fill_kernel, CUDA, &cuda_fill);
GANTRY_REGISTER_KERNEL(copy_kernel, CUDA, &cuda_copy);
GANTRY_REGISTER_KERNEL(cross_device_copy_kernel, CUDA, &cuda_cross_device_copy);
GANTRY_REGISTER_KERNEL(unary_kernel, CUDA, &cuda_unary);
GANTRY_REGISTER_KERNEL(binary_kernel, CUDA, &cuda_binary);
GANTRY_REGISTER_KERNEL(compare_kernel, CUDA, &cuda_compare);
GANTRY_REGISTER_KERNEL(where_kernel, CUDA, &cuda_where);

}  // namespace gantry::cuda
