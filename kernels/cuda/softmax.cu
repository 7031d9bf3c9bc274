// CUDA softmax / log_softmax along one dim, mirroring the CPU kernel's numerics: the slice maximum
// is subtracted (a NaN or infinite maximum is replaced by 0 so NaN/inf flow through as in torch), the
// sum of exponentials is accumulated in double. One block per slice, three passes over the slice.
#include <cuda_runtime.h>

#include <cmath>

#include "engine/dispatch/softmax_kernels.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/runtime.h"
#include "kernels/cuda/tensor_iter.cuh"

namespace gantry::cuda {
namespace {

constexpr int kSoftmaxThreads = 256;

// Block-wide reduction of one value per thread; every thread gets the result.
template <typename V, typename Combine>
__device__ V block_reduce(V v, V* scratch, Combine combine) {
  scratch[threadIdx.x] = v;
  __syncthreads();
  for (int width = blockDim.x / 2; width > 0; width /= 2) {
    if (threadIdx.x < width) scratch[threadIdx.x] = combine(scratch[threadIdx.x], scratch[threadIdx.x + width]);
    __syncthreads();
  }
  const V result = scratch[0];
  __syncthreads();
  return result;
}

struct MaxOf {
  template <typename V> __device__ V operator()(V a, V b) const { return a < b ? b : a; }  // std::max order
};
struct SumOf {
  template <typename V> __device__ V operator()(V a, V b) const { return a + b; }
};

template <typename T>
__global__ void softmax_kernel_impl(T* out, const T* x, OffsetCalculator<int64_t, 2> outer, int64_t num_slices,
                                    int64_t n, int64_t out_stride, int64_t x_stride, bool log) {
  __shared__ T max_scratch[kSoftmaxThreads];
  __shared__ double sum_scratch[kSoftmaxThreads];
  for (int64_t s = blockIdx.x; s < num_slices; s += gridDim.x) {
    int64_t base[2];
    outer.offsets(s, base);
    T* o = out + base[0];
    const T* xi = x + base[1];
    T m = -INFINITY;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) m = MaxOf{}(m, xi[i * x_stride]);
    m = block_reduce(m, max_scratch, MaxOf{});
    if (isnan(m) || isinf(m)) m = T(0);
    double total = 0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) total += ::exp(static_cast<double>(xi[i * x_stride] - m));
    total = block_reduce(total, sum_scratch, SumOf{});
    if (log) {
      const T log_total = static_cast<T>(::log(total));
      for (int64_t i = threadIdx.x; i < n; i += blockDim.x) o[i * out_stride] = xi[i * x_stride] - m - log_total;
    } else {
      const T inv_total = static_cast<T>(1.0 / total);
      for (int64_t i = threadIdx.x; i < n; i += blockDim.x) o[i * out_stride] = ::exp(xi[i * x_stride] - m) * inv_total;
    }
  }
}

void cuda_softmax(Tensor& out, const Tensor& x, int64_t dim, bool log) {
  const char* op = log ? "log_softmax" : "softmax";
  check_device(x.device(), op);
  GANTRY_CHECK(out.device() == x.device() && out.shape() == x.shape() && out.dtype() == x.dtype(), op,
               ": output ", shape_str(out.shape()), " does not match input ", shape_str(x.shape()));
  GANTRY_CHECK(dim >= 0 && dim < x.dim(), op, ": dim ", dim, " out of range for shape ", shape_str(x.shape()));
  if (x.numel() == 0) return;
  // Geometry of the slices: every dim but `dim`, in element strides of (out, x), innermost first.
  IterGeometry<2> g;
  int64_t num_slices = 1;
  for (int64_t d = x.dim() - 1; d >= 0; --d) {
    if (d == dim || x.size(d) == 1) continue;
    GANTRY_CHECK(g.ndim < kMaxIterDims, op, ": at most ", kMaxIterDims, " outer dims on CUDA, got shape ",
                 shape_str(x.shape()));
    g.sizes[g.ndim] = x.size(d);
    g.strides[g.ndim][0] = out.strides()[d];
    g.strides[g.ndim][1] = x.strides()[d];
    ++g.ndim;
    num_slices *= x.size(d);
  }
  DeviceGuard guard(x.device());
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(num_slices, 65535LL * 8));
    GANTRY_LAUNCH(blocks, kSoftmaxThreads, 0, current_stream(x.device().index), softmax_kernel_impl<T>)(
        static_cast<T*>(out.raw_data()), static_cast<const T*>(x.raw_data()), OffsetCalculator<int64_t, 2>(g),
        num_slices, x.size(dim), out.strides()[dim], x.strides()[dim], log);
    GANTRY_CUDA_LAUNCH_CHECK();
  });
}

}  // namespace

GANTRY_REGISTER_KERNEL(softmax_kernel, CUDA, &cuda_softmax);

}  // namespace gantry::cuda
