// CUDA fill, copy (strided, with dtype cast), cross-device copy, unary, binary, compare and where
// kernels, all through the one launcher of tensor_iter.cuh. Each functor switches on the op at run
// time: the switch is uniform across a warp, so it costs nothing next to the memory traffic and keeps
// the number of kernel instantiations (and build time) small.
#include <cuda_runtime.h>

#include <cmath>
#include <type_traits>

#include "engine/dispatch/kernels.h"
#include "kernels/cuda/runtime.h"
#include "kernels/cuda/tensor_iter.cuh"

namespace gantry::cuda {
namespace {

// Integer tensors evaluate transcendental ops in double and convert back.
template <typename T>
using MathType = std::conditional_t<std::is_floating_point_v<T>, T, double>;

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

template <typename T>
struct UnaryFn {
  using M = MathType<T>;
  UnaryOp op;
  M alpha, beta;

  __device__ T operator()(T in) const {
    const M x = static_cast<M>(in);
    M r;
    switch (op) {
      case UnaryOp::neg: r = -x; break;
      case UnaryOp::exp: r = ::exp(x); break;
      case UnaryOp::log: r = ::log(x); break;
      case UnaryOp::sqrt: r = ::sqrt(x); break;
      case UnaryOp::abs: r = x < M(0) ? -x : x; break;
      case UnaryOp::sign: r = static_cast<M>((x > M(0)) - (x < M(0))); break;
      case UnaryOp::relu: r = x > M(0) ? x : M(0); break;
      case UnaryOp::tanh: r = ::tanh(x); break;
      case UnaryOp::sigmoid: r = M(1) / (M(1) + ::exp(-x)); break;
      case UnaryOp::pow_scalar: r = ::pow(x, alpha); break;
      case UnaryOp::leaky_relu: r = x > M(0) ? x : alpha * x; break;
      case UnaryOp::softplus: {  // alpha = threshold, beta = scale; linear above the threshold
        const M bx = beta * x;
        r = bx > alpha ? x : ::log1p(::exp(bx)) / beta;
        break;
      }
      case UnaryOp::clamp: r = x < alpha ? alpha : (x > beta ? beta : x); break;  // NaN passes through
      case UnaryOp::add_scalar: r = x + alpha; break;
      case UnaryOp::mul_scalar: r = x * alpha; break;
      case UnaryOp::rsub_scalar: r = alpha - x; break;
      case UnaryOp::rdiv_scalar: r = alpha / x; break;
      case UnaryOp::step: r = x > alpha ? M(1) : beta; break;
      default: r = x; break;
    }
    return static_cast<T>(r);
  }
};

template <typename T>
struct BinaryFn {
  BinaryOp op;
  __device__ T operator()(T a, T b) const {
    switch (op) {
      case BinaryOp::add: return a + b;
      case BinaryOp::sub: return a - b;
      case BinaryOp::mul: return a * b;
      case BinaryOp::div:
        if constexpr (std::is_floating_point_v<T>) return a / b;
        else return b == T(0) ? T(0) : static_cast<T>(a / b);  // no trap on the device
      case BinaryOp::pow: return static_cast<T>(::pow(static_cast<MathType<T>>(a), static_cast<MathType<T>>(b)));
      case BinaryOp::maximum: return is_nan(a) ? a : (is_nan(b) ? b : (a > b ? a : b));  // NaN propagates
      case BinaryOp::minimum: return is_nan(a) ? a : (is_nan(b) ? b : (a < b ? a : b));
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
  dispatch_all(out.dtype(), "unary", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using M = MathType<T>;
    launch_elementwise<T, T>(out, {&x}, UnaryFn<T>{op, static_cast<M>(p.alpha), static_cast<M>(p.beta)}, "unary");
  });
}

void cuda_binary(BinaryOp op, Tensor& out, const Tensor& a, const Tensor& b) {
  check_same_device("binary", out, {&a, &b});
  check_same_dtype("binary", out, a);
  check_same_dtype("binary", out, b);
  dispatch_all(out.dtype(), "binary", [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<T, T, T>(out, {&a, &b}, BinaryFn<T>{op}, "binary");
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
