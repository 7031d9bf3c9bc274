// CUDA gather, scatter_add and top-k.
//  - Indices are validated by a first kernel that records the first out-of-range position, so the op
//    throws (naming the value) before anything is written, as on the CPU.
//  - scatter_add accumulates with atomicAdd: duplicates are summed in an unspecified order, so results
//    can differ from the CPU (and between runs) in the last bits.
//  - top-k ranks every element of a slice by counting the elements that rank before it (value, NaN
//    above numbers, ties to the lower index); the ranks are a permutation, so entries with rank < k
//    go straight to their output slot. O(n^2) per slice through shared-memory tiles: meant for the
//    batch-sized slices of top-k training, not for huge vocabularies.
#include <cuda_runtime.h>

#include <cmath>
#include <type_traits>

#include "engine/dispatch/index_kernels.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/runtime.h"
#include "kernels/cuda/tensor_iter.cuh"
#include "kernels/cuda/workspace.h"

namespace gantry::cuda {
namespace {

constexpr int kThreads = 256;

Shape without_dim_stride(const Shape& strides, int64_t dim) {
  Shape s = strides;
  s[dim] = 0;
  return s;
}

__global__ void find_bad_index(const char* index, OffsetCalculator<int64_t, 1> calc, int64_t n, int64_t size,
                               unsigned long long* first_bad) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t off[1];
    calc.offsets(i, off);
    const int64_t j = *reinterpret_cast<const int64_t*>(index + off[0]);
    if (j < 0 || j >= size) atomicMin(first_bad, static_cast<unsigned long long>(i));
  }
}

// Throws naming `op` when any index is outside [0, size). Synchronises with the device.
void check_indices(const Tensor& index, int64_t size, int64_t dim, const char* op) {
  const int64_t n = index.numel();
  if (n == 0) return;
  const int device = index.device().index;
  const cudaStream_t stream = current_stream(device);
  const IterGeometry<1> g = collapse_geometry<1>(index.shape(), {&index}, op);
  Workspace flag(sizeof(unsigned long long), device);
  GANTRY_CUDA_CHECK(cudaMemsetAsync(flag.data(), 0xff, sizeof(unsigned long long), stream));
  GANTRY_LAUNCH(grid_for(n, kThreads), kThreads, 0, stream, find_bad_index)(static_cast<const char*>(index.raw_data()),
                                                                OffsetCalculator<int64_t, 1>(g), n, size,
                                                                flag.as<unsigned long long>());
  GANTRY_CUDA_LAUNCH_CHECK();
  unsigned long long first_bad = 0;
  GANTRY_CUDA_CHECK(cudaMemcpyAsync(&first_bad, flag.data(), sizeof first_bad, cudaMemcpyDeviceToHost, stream));
  GANTRY_CUDA_CHECK(cudaStreamSynchronize(stream));
  if (first_bad == ~0ull) return;
  // Element offset of the bad position (row-major over index's shape), to report its value.
  int64_t rem = static_cast<int64_t>(first_bad), offset = 0;
  for (int64_t d = index.dim() - 1; d >= 0; --d) {
    offset += (rem % index.size(d)) * index.strides()[d];
    rem /= index.size(d);
  }
  int64_t value = 0;
  GANTRY_CUDA_CHECK(cudaMemcpy(&value, index.data_ptr<int64_t>() + offset, sizeof value, cudaMemcpyDeviceToHost));
  GANTRY_FAIL(op, ": index ", value, " is out of range for dim ", dim, " of size ", size);
}

// out[p] = x[p with p[dim] = index[p]]: operands (out, index, x with dim stride 0), byte offsets.
template <typename T>
__global__ void gather_kernel_impl(char* out, const char* index, const char* x, OffsetCalculator<int64_t, 3> calc,
                                   int64_t n, int64_t dim_stride_bytes) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t off[3];
    calc.offsets(i, off);
    const int64_t j = *reinterpret_cast<const int64_t*>(index + off[1]);
    *reinterpret_cast<T*>(out + off[0]) = *reinterpret_cast<const T*>(x + off[2] + j * dim_stride_bytes);
  }
}

// out[p with p[dim] = index[p]] += src[p]: operands (out with dim stride 0, index, src).
template <typename T>
__global__ void scatter_add_kernel_impl(char* out, const char* index, const char* src, OffsetCalculator<int64_t, 3> calc,
                                        int64_t n, int64_t dim_stride_bytes) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t off[3];
    calc.offsets(i, off);
    const int64_t j = *reinterpret_cast<const int64_t*>(index + off[1]);
    atomicAdd(reinterpret_cast<T*>(out + off[0] + j * dim_stride_bytes), *reinterpret_cast<const T*>(src + off[2]));
  }
}

void cuda_gather(Tensor& out, const Tensor& x, int64_t dim, const Tensor& index, const char* op) {
  check_device(x.device(), op);
  GANTRY_CHECK(out.device() == x.device() && index.device() == x.device(), op, ": tensors on different devices (",
               x.device().str(), ", ", index.device().str(), ")");
  check_indices(index, x.size(dim), dim, op);
  const int64_t n = index.numel();
  if (n == 0) return;
  DeviceGuard guard(x.device());
  const Shape x_strides = without_dim_stride(x.strides(), dim);
  const int64_t item = static_cast<int64_t>(itemsize(x.dtype()));
  const IterGeometry<3> g =
      collapse_geometry<3>(index.shape(), {&out.strides(), &index.strides(), &x_strides}, {item, 8, item}, op);
  dispatch_all(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    GANTRY_LAUNCH(grid_for(n, kThreads), kThreads, 0, current_stream(x.device().index), gather_kernel_impl<T>)(
        static_cast<char*>(out.raw_data()), static_cast<const char*>(index.raw_data()),
        static_cast<const char*>(x.raw_data()), OffsetCalculator<int64_t, 3>(g), n, x.strides()[dim] * item);
    GANTRY_CUDA_LAUNCH_CHECK();
  });
}

void cuda_scatter_add(Tensor& out, int64_t dim, const Tensor& index, const Tensor& src, const char* op) {
  check_device(out.device(), op);
  GANTRY_CHECK(src.device() == out.device() && index.device() == out.device(), op, ": tensors on different devices (",
               out.device().str(), ", ", index.device().str(), ", ", src.device().str(), ")");
  check_indices(index, out.size(dim), dim, op);
  const int64_t n = index.numel();
  if (n == 0) return;
  DeviceGuard guard(out.device());
  const Shape out_strides = without_dim_stride(out.strides(), dim);
  const int64_t item = static_cast<int64_t>(itemsize(out.dtype()));
  const IterGeometry<3> g =
      collapse_geometry<3>(index.shape(), {&out_strides, &index.strides(), &src.strides()}, {item, 8, item}, op);
  dispatch_floating(out.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    GANTRY_LAUNCH(grid_for(n, kThreads), kThreads, 0, current_stream(out.device().index), scatter_add_kernel_impl<T>)(
        static_cast<char*>(out.raw_data()), static_cast<const char*>(index.raw_data()),
        static_cast<const char*>(src.raw_data()), OffsetCalculator<int64_t, 3>(g), n, out.strides()[dim] * item);
    GANTRY_CUDA_LAUNCH_CHECK();
  });
}

template <typename T>
__device__ __forceinline__ bool ranks_before(T a, int64_t ia, T b, int64_t ib, bool largest) {
  if constexpr (std::is_floating_point_v<T>) {
    const bool na = a != a, nb = b != b;
    if (na || nb) {
      if (na && nb) return ia < ib;
      return na == largest;
    }
  }
  if (a == b) return ia < ib;
  return largest ? a > b : a < b;
}

// Slice s (outer geometry over x, values, indices in element strides) and element i of it.
template <typename T>
__global__ void topk_kernel_impl(const T* x, T* values, int64_t* indices, OffsetCalculator<int64_t, 3> outer,
                                 int64_t num_slices, int64_t n, int64_t k, int64_t xs, int64_t vs, int64_t is,
                                 bool largest) {
  __shared__ T tile[kThreads];
  for (int64_t s = blockIdx.y; s < num_slices; s += gridDim.y) {
    int64_t base[3];
    outer.offsets(s, base);
    const T* xin = x + base[0];
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const bool active = i < n;
    const T mine = active ? xin[i * xs] : T(0);
    int64_t rank = 0;
    for (int64_t t0 = 0; t0 < n; t0 += kThreads) {
      if (t0 + threadIdx.x < n) tile[threadIdx.x] = xin[(t0 + threadIdx.x) * xs];
      __syncthreads();
      const int64_t count = n - t0 < kThreads ? n - t0 : kThreads;
      if (active)
        for (int64_t j = 0; j < count; ++j) rank += ranks_before(tile[j], t0 + j, mine, i, largest);
      __syncthreads();
    }
    if (active && rank < k) {
      values[base[1] + rank * vs] = mine;
      indices[base[2] + rank * is] = i;
    }
  }
}

void cuda_topk(Tensor& values, Tensor& indices, const Tensor& x, int64_t k, int64_t dim, bool largest) {
  check_device(x.device(), "topk");
  GANTRY_CHECK(values.device() == x.device() && indices.device() == x.device(), "topk: outputs on another device");
  GANTRY_CHECK(dim >= 0 && dim < x.dim(), "topk: dim ", dim, " out of range for shape ", shape_str(x.shape()));
  const int64_t n = x.size(dim);
  GANTRY_CHECK(k >= 0 && k <= n, "topk: k = ", k, " out of range for a dim of size ", n);
  if (k == 0 || values.numel() == 0) return;
  IterGeometry<3> g;
  int64_t num_slices = 1;
  for (int64_t d = x.dim() - 1; d >= 0; --d) {
    if (d == dim || x.size(d) == 1) continue;
    GANTRY_CHECK(g.ndim < kMaxIterDims, "topk: at most ", kMaxIterDims, " outer dims on CUDA, got shape ",
                 shape_str(x.shape()));
    g.sizes[g.ndim] = x.size(d);
    g.strides[g.ndim][0] = x.strides()[d];
    g.strides[g.ndim][1] = values.strides()[d];
    g.strides[g.ndim][2] = indices.strides()[d];
    ++g.ndim;
    num_slices *= x.size(d);
  }
  DeviceGuard guard(x.device());
  const dim3 grid(static_cast<unsigned>((n + kThreads - 1) / kThreads),
                  static_cast<unsigned>(std::min<int64_t>(num_slices, 65535)));
  GANTRY_CHECK(grid.x <= 0x7fffffffu, "topk: dim of size ", n, " too large");
  dispatch_all(x.dtype(), "topk", [&](auto tag) {
    using T = typename decltype(tag)::type;
    GANTRY_LAUNCH(grid, kThreads, 0, current_stream(x.device().index), topk_kernel_impl<T>)(
        static_cast<const T*>(x.raw_data()), static_cast<T*>(values.raw_data()), indices.data_ptr<int64_t>(),
        OffsetCalculator<int64_t, 3>(g), num_slices, n, k, x.strides()[dim], values.strides()[dim],
        indices.strides()[dim], largest);
    GANTRY_CUDA_LAUNCH_CHECK();
  });
}

}  // namespace

GANTRY_REGISTER_KERNEL(gather_kernel, CUDA, &cuda_gather);
GANTRY_REGISTER_KERNEL(scatter_add_kernel, CUDA, &cuda_scatter_add);
GANTRY_REGISTER_KERNEL(topk_kernel, CUDA, &cuda_topk);

}  // namespace gantry::cuda
