// CUDA reductions (sum, amax, amin) and arg-reductions (max/min with the first index). Usually each
// output element is one block's job: the block's threads stride over the reduced elements and combine
// their partial results in shared memory; when the outputs run along x's contiguous dim instead, each
// thread reduces one output serially (coalesced across the warp). The input may be strided: an output index maps to an input
// base offset through the kept dims, a reduced index to an offset through the reduced dims.
// Floating sums accumulate in double (as on the CPU); amax/amin and max/min propagate NaN.
#include <cuda_runtime.h>

#include <cmath>
#include <type_traits>

#include "engine/dispatch/reduce_kernels.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/runtime.h"
#include "kernels/cuda/tensor_iter.cuh"

namespace gantry::cuda {
namespace {

constexpr int kMaxReduceThreads = 256;

template <typename T>
__device__ __forceinline__ bool nan_value(T v) {
  if constexpr (std::is_floating_point_v<T>) return v != v;
  else return false;
}

template <typename T>
using SumAcc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

// Combiners: identity(), combine(acc, acc) on the accumulator type, finish(acc) -> T.
template <typename T>
struct SumCombine {
  using Acc = SumAcc<T>;
  __device__ static Acc identity() { return Acc(0); }
  __device__ static Acc lift(T v, int64_t) { return static_cast<Acc>(v); }
  __device__ static Acc combine(Acc a, Acc b) { return a + b; }
};
template <typename T, bool Max>
struct ExtremeCombine {
  using Acc = T;
  __device__ static Acc identity() {
    if constexpr (std::is_floating_point_v<T>) return Max ? -INFINITY : INFINITY;
    else return Max ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
  }
  __device__ static Acc lift(T v, int64_t) { return v; }
  __device__ static Acc combine(Acc a, Acc b) {
    if (nan_value(a)) return a;
    if (nan_value(b)) return b;
    return Max ? (b > a ? b : a) : (b < a ? b : a);
  }
};
template <typename T>
struct ValueIndex {
  T value;
  int64_t index;
};
// The first index of the extreme value; NaN is the extreme.
template <typename T, bool Max>
struct ArgCombine {
  using Acc = ValueIndex<T>;
  __device__ static Acc identity() { return {ExtremeCombine<T, Max>::identity(), INT64_MAX}; }
  __device__ static Acc lift(T v, int64_t i) { return {v, i}; }
  __device__ static Acc combine(Acc a, Acc b) {
    const bool an = nan_value(a.value), bn = nan_value(b.value);
    if (an || bn) {
      if (an && bn) return a.index < b.index ? a : b;
      return an ? a : b;
    }
    if (a.value == b.value) return a.index < b.index ? a : b;
    return (Max ? b.value > a.value : b.value < a.value) ? b : a;
  }
};

// out_index -> input base offset over the kept dims, reduce_index -> offset over the reduced dims
// (element strides, innermost first).
struct ReduceGeometry {
  IterGeometry<1> kept, reduced;
  int64_t num_outputs = 1, reduce_size = 1;
};

ReduceGeometry make_reduce_geometry(const Tensor& x, const std::vector<bool>& is_reduced, const char* op) {
  ReduceGeometry g;
  for (int64_t d = x.dim() - 1; d >= 0; --d) {
    const int64_t size = x.size(d);
    if (size == 1) continue;
    IterGeometry<1>& target = is_reduced[d] ? g.reduced : g.kept;
    GANTRY_CHECK(target.ndim < kMaxIterDims, op, ": the CUDA reduction handles at most ", kMaxIterDims,
                 " kept and ", kMaxIterDims, " reduced dims, got shape ", shape_str(x.shape()));
    target.sizes[target.ndim] = size;
    target.strides[target.ndim][0] = x.strides()[d];
    ++target.ndim;
    (is_reduced[d] ? g.reduce_size : g.num_outputs) *= size;
  }
  return g;
}

template <typename T, typename Combine, typename Store>
__global__ void reduce_kernel_impl(const T* x, OffsetCalculator<int64_t, 1> kept, OffsetCalculator<int64_t, 1> reduced,
                                   int64_t num_outputs, int64_t reduce_size, Store store) {
  using Acc = typename Combine::Acc;
  __shared__ Acc partial[kMaxReduceThreads];
  for (int64_t o = blockIdx.x; o < num_outputs; o += gridDim.x) {
    int64_t base[1];
    kept.offsets(o, base);
    Acc acc = Combine::identity();
    for (int64_t r = threadIdx.x; r < reduce_size; r += blockDim.x) {
      int64_t off[1];
      reduced.offsets(r, off);
      acc = Combine::combine(acc, Combine::lift(x[base[0] + off[0]], r));
    }
    partial[threadIdx.x] = acc;
    __syncthreads();
    for (int width = blockDim.x / 2; width > 0; width /= 2) {
      if (threadIdx.x < width) partial[threadIdx.x] = Combine::combine(partial[threadIdx.x], partial[threadIdx.x + width]);
      __syncthreads();
    }
    if (threadIdx.x == 0) store(o, partial[0]);
    __syncthreads();  // partial is reused by the next output
  }
}

// One thread per output, reducing serially: used when the outputs' innermost dim is contiguous in x
// and the reduction is not, so neighbouring threads read neighbouring elements (e.g. a bias gradient,
// the sum over the batch of [batch, features]).
template <typename T, typename Combine, typename Store>
__global__ void reduce_per_thread_kernel(const T* x, OffsetCalculator<int64_t, 1> kept,
                                         OffsetCalculator<int64_t, 1> reduced, int64_t num_outputs,
                                         int64_t reduce_size, Store store) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < num_outputs; o += stride) {
    int64_t base[1];
    kept.offsets(o, base);
    typename Combine::Acc acc = Combine::identity();
    for (int64_t r = 0; r < reduce_size; ++r) {
      int64_t off[1];
      reduced.offsets(r, off);
      acc = Combine::combine(acc, Combine::lift(x[base[0] + off[0]], r));
    }
    store(o, acc);
  }
}

// Threads per block: a power of two covering the reduced size, 32..256.
int reduce_threads(int64_t reduce_size) {
  int t = 32;
  while (t < kMaxReduceThreads && t < reduce_size) t *= 2;
  return t;
}

template <typename T, typename Combine, typename Store>
void launch_reduce(const Tensor& x, const ReduceGeometry& g, Store store) {
  const cudaStream_t stream = current_stream(x.device().index);
  const bool outputs_contiguous = g.kept.ndim > 0 && g.kept.strides[0][0] == 1;
  const bool reduction_contiguous = g.reduced.ndim > 0 && g.reduced.strides[0][0] == 1;
  if (outputs_contiguous && !reduction_contiguous && g.num_outputs >= 256) {
    constexpr int threads = 128;
    GANTRY_LAUNCH(grid_for(g.num_outputs, threads), threads, 0, stream, reduce_per_thread_kernel<T, Combine>)(
        static_cast<const T*>(x.raw_data()), OffsetCalculator<int64_t, 1>(g.kept),
        OffsetCalculator<int64_t, 1>(g.reduced), g.num_outputs, g.reduce_size, store);
    GANTRY_CUDA_LAUNCH_CHECK();
    return;
  }
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(g.num_outputs, 65535LL * 8));
  GANTRY_LAUNCH(blocks, reduce_threads(g.reduce_size), 0, stream, reduce_kernel_impl<T, Combine>)(
      static_cast<const T*>(x.raw_data()), OffsetCalculator<int64_t, 1>(g.kept), OffsetCalculator<int64_t, 1>(g.reduced),
      g.num_outputs, g.reduce_size, store);
  GANTRY_CUDA_LAUNCH_CHECK();
}

template <typename T, typename Acc>
struct StoreValue {
  T* out;
  __device__ void operator()(int64_t o, Acc v) const { out[o] = static_cast<T>(v); }
};
template <typename T>
struct StoreValueIndex {
  T* values;
  int64_t* indices;
  __device__ void operator()(int64_t o, ValueIndex<T> v) const {
    values[o] = v.value;
    indices[o] = v.index;
  }
};

void cuda_reduce(ReduceOp op, Tensor& out, const Tensor& x) {
  check_device(out.device(), "reduce");
  GANTRY_CHECK(x.device() == out.device(), "reduce: input on ", x.device().str(), ", output on ", out.device().str());
  GANTRY_CHECK(out.dtype() == x.dtype() && out.dim() == x.dim() && out.is_contiguous(), "reduce: expected a contiguous ",
               dtype_name(x.dtype()), " output of rank ", x.dim(), ", got ", shape_str(out.shape()));
  std::vector<bool> is_reduced(x.dim());
  for (int64_t d = 0; d < x.dim(); ++d) {
    GANTRY_CHECK(out.size(d) == x.size(d) || out.size(d) == 1, "reduce: output shape ", shape_str(out.shape()),
                 " does not fit input ", shape_str(x.shape()));
    is_reduced[d] = out.size(d) == 1 && x.size(d) != 1;
  }
  if (out.numel() == 0) return;
  DeviceGuard guard(out.device());
  const ReduceGeometry g = make_reduce_geometry(x, is_reduced, "reduce");
  dispatch_all(x.dtype(), "reduce", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* o = static_cast<T*>(out.raw_data());
    switch (op) {
      case ReduceOp::sum:
        launch_reduce<T, SumCombine<T>>(x, g, StoreValue<T, SumAcc<T>>{o});
        break;
      case ReduceOp::amax: launch_reduce<T, ExtremeCombine<T, true>>(x, g, StoreValue<T, T>{o}); break;
      case ReduceOp::amin: launch_reduce<T, ExtremeCombine<T, false>>(x, g, StoreValue<T, T>{o}); break;
    }
  });
}

void cuda_arg_reduce(ArgReduceOp op, Tensor& values, Tensor& indices, const Tensor& x, int64_t dim) {
  check_device(x.device(), "arg_reduce");
  GANTRY_CHECK(values.device() == x.device() && indices.device() == x.device(), "arg_reduce: outputs on another device");
  GANTRY_CHECK(dim >= 0 && dim < x.dim(), "arg_reduce: dim ", dim, " out of range for shape ", shape_str(x.shape()));
  GANTRY_CHECK(x.size(dim) > 0, "arg_reduce: cannot reduce an empty dim of shape ", shape_str(x.shape()));
  GANTRY_CHECK(values.is_contiguous() && indices.is_contiguous() && indices.dtype() == DType::i64 &&
                   values.dtype() == x.dtype() && values.numel() == x.numel() / x.size(dim),
               "arg_reduce: bad outputs ", shape_str(values.shape()), " / ", shape_str(indices.shape()));
  if (values.numel() == 0) return;
  std::vector<bool> is_reduced(x.dim(), false);
  is_reduced[dim] = true;
  DeviceGuard guard(x.device());
  ReduceGeometry g = make_reduce_geometry(x, is_reduced, "arg_reduce");
  dispatch_all(x.dtype(), "arg_reduce", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const StoreValueIndex<T> store{static_cast<T*>(values.raw_data()), indices.data_ptr<int64_t>()};
    if (op == ArgReduceOp::max) launch_reduce<T, ArgCombine<T, true>>(x, g, store);
    else launch_reduce<T, ArgCombine<T, false>>(x, g, store);
  });
}

}  // namespace

GANTRY_REGISTER_KERNEL(reduce_kernel, CUDA, &cuda_reduce);
GANTRY_REGISTER_KERNEL(arg_reduce_kernel, CUDA, &cuda_arg_reduce);

}  // namespace gantry::cuda
