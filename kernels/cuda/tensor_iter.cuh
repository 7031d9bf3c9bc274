#pragma once
// The CUDA backend's one elementwise/broadcast launcher. `launch_elementwise<Out, In...>(out, {&in...},
// f, op)` computes out[i] = f(in...[i]) over out's shape, where each input is a view of that shape
// (stride 0 on broadcast dims) and `f` is a device functor taking In... and returning Out.
//  - Dims that are contiguous in every operand are merged first (as the CPU iterator does); at most
//    kMaxIterDims dims may remain.
//  - Dense operands (all contiguous, no broadcast) take a fast path: a flat loop with 4-element
//    vector loads/stores (float4 for f32) when every pointer is aligned for it.
//  - Otherwise offsets are computed per element from the merged geometry, in 32-bit arithmetic when
//    every byte offset fits, else in 64-bit.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <tuple>
#include <utility>

#include "engine/core/tensor.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/runtime.h"

namespace gantry::cuda {

constexpr int kMaxIterDims = 8;
constexpr int kElementwiseThreads = 256;
constexpr int kVectorWidth = 4;

// Merged geometry of N operands (operand 0 is the output); dims innermost first, strides in bytes.
template <int N>
struct IterGeometry {
  int ndim = 0;
  int64_t sizes[kMaxIterDims] = {};
  int64_t strides[kMaxIterDims][N] = {};
};

template <typename index_t, int N>
struct OffsetCalculator {
  int ndim;
  index_t sizes[kMaxIterDims];
  index_t strides[kMaxIterDims][N];

  explicit OffsetCalculator(const IterGeometry<N>& g) : ndim(g.ndim) {
    for (int d = 0; d < kMaxIterDims; ++d) {
      sizes[d] = static_cast<index_t>(g.sizes[d]);
      for (int k = 0; k < N; ++k) strides[d][k] = static_cast<index_t>(g.strides[d][k]);
    }
  }

  __device__ __forceinline__ void offsets(index_t linear, index_t (&off)[N]) const {
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] = 0;
#pragma unroll
    for (int d = 0; d < kMaxIterDims; ++d) {
      if (d == ndim) break;
      const index_t i = linear % sizes[d];
      linear /= sizes[d];
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] += i * strides[d][k];
    }
  }
};

// Collapses dims of N operands given their strides (elements) and itemsizes: drops size-1 dims and
// merges dims contiguous in every operand. Strides in the result are in bytes.
template <int N>
IterGeometry<N> collapse_geometry(const Shape& shape, const std::array<const Shape*, N>& element_strides,
                                  const std::array<int64_t, N>& itemsizes, const char* op) {
  IterGeometry<N> g;
  int64_t sizes[64];
  int64_t strides[64][N];
  int nd = 0;
  GANTRY_CHECK(shape.size() <= 64, op, ": too many dims (", shape.size(), ")");
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] == 1) continue;
    int64_t s[N];
    for (int k = 0; k < N; ++k) s[k] = (*element_strides[k])[d] * itemsizes[k];
    if (nd > 0) {
      bool mergeable = true;
      for (int k = 0; k < N; ++k)
        if (s[k] != strides[nd - 1][k] * sizes[nd - 1]) mergeable = false;
      if (mergeable) {
        sizes[nd - 1] *= shape[d];
        continue;
      }
    }
    sizes[nd] = shape[d];
    for (int k = 0; k < N; ++k) strides[nd][k] = s[k];
    ++nd;
  }
  GANTRY_CHECK(nd <= kMaxIterDims, op, ": the CUDA iterator handles at most ", kMaxIterDims,
               " non-mergeable dims, got ", nd, " for shape ", shape_str(shape), "; make the operands contiguous first");
  g.ndim = nd;
  for (int d = 0; d < nd; ++d) {
    g.sizes[d] = sizes[d];
    for (int k = 0; k < N; ++k) g.strides[d][k] = strides[d][k];
  }
  return g;
}

template <int N>
IterGeometry<N> collapse_geometry(const Shape& shape, const std::array<const Tensor*, N>& operands, const char* op) {
  std::array<const Shape*, N> strides{};
  std::array<int64_t, N> itemsizes{};
  for (int k = 0; k < N; ++k) {
    strides[k] = &operands[k]->strides();
    itemsizes[k] = static_cast<int64_t>(itemsize(operands[k]->dtype()));
  }
  return collapse_geometry<N>(shape, strides, itemsizes, op);
}

// True when every byte offset reachable in the geometry (and the element count) fits in int32.
template <int N>
bool fits_32bit(const IterGeometry<N>& g, int64_t numel) {
  // Half the int32 range, so a grid-stride step past the end cannot overflow the loop index.
  if (numel > (int64_t{1} << 30)) return false;
  for (int k = 0; k < N; ++k) {
    int64_t reach = 0;
    for (int d = 0; d < g.ndim; ++d) reach += (g.sizes[d] - 1) * std::llabs(g.strides[d][k]);
    if (reach > INT32_MAX) return false;
  }
  return true;
}

template <typename T, int V>
struct alignas(sizeof(T) * V) VectorOf {
  T v[V];
};

template <typename Out, typename F, typename... VIn>
__device__ __forceinline__ void apply_lanes(const F& f, VectorOf<Out, kVectorWidth>& out, const VIn&... in) {
#pragma unroll
  for (int l = 0; l < kVectorWidth; ++l) out.v[l] = f(in.v[l]...);
}

// Dense operands: vector loop over [0, n_vec) groups, then the scalar tail.
template <bool Vectorised, typename Out, typename F, typename... In>
__global__ void dense_elementwise_kernel(int64_t n, F f, Out* out, const In*... in) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t tail_start = 0;
  if constexpr (Vectorised) {
    const int64_t n_vec = n / kVectorWidth;
    for (int64_t i = tid; i < n_vec; i += stride) {
      VectorOf<Out, kVectorWidth> o;
      apply_lanes<Out>(f, o, reinterpret_cast<const VectorOf<In, kVectorWidth>*>(in)[i]...);
      reinterpret_cast<VectorOf<Out, kVectorWidth>*>(out)[i] = o;
    }
    tail_start = n_vec * kVectorWidth;
  }
  for (int64_t i = tail_start + tid; i < n; i += stride) out[i] = f(in[i]...);
}

template <typename index_t, typename Out, typename F, size_t... I, typename... In>
__device__ __forceinline__ void apply_at_offsets(const F& f, const index_t* off, char* out,
                                                 std::index_sequence<I...>, const In*... in) {
  *reinterpret_cast<Out*>(out + off[0]) =
      f(*reinterpret_cast<const In*>(reinterpret_cast<const char*>(in) + off[I + 1])...);
}

template <typename index_t, typename Out, typename F, typename... In>
__global__ void strided_elementwise_kernel(OffsetCalculator<index_t, 1 + sizeof...(In)> calc, index_t n, F f,
                                           Out* out, const In*... in) {
  const index_t stride = static_cast<index_t>(gridDim.x) * blockDim.x;
  for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    index_t off[1 + sizeof...(In)];
    calc.offsets(i, off);
    apply_at_offsets<index_t, Out>(f, off, reinterpret_cast<char*>(out), std::index_sequence_for<In...>{}, in...);
  }
}

inline bool aligned_for_vectors(const void* p, size_t itemsize) {
  return reinterpret_cast<uintptr_t>(p) % (itemsize * kVectorWidth) == 0;
}

// out[i] = f(inputs[i]...) on out's device and current stream. Out/In must match the tensors' dtypes.
template <typename Out, typename... In, typename F>
void launch_elementwise(Tensor& out, const std::array<const Tensor*, sizeof...(In)>& inputs, F f, const char* op) {
  constexpr int N = 1 + sizeof...(In);
  const int64_t n = out.numel();
  if (n == 0) return;
  DeviceGuard guard(out.device());
  const cudaStream_t stream = current_stream(out.device().index);

  std::array<const Tensor*, N> operands{};
  operands[0] = &out;
  std::copy(inputs.begin(), inputs.end(), operands.begin() + 1);

  bool dense = true, aligned = true;
  for (const Tensor* t : operands) {
    dense = dense && t->is_contiguous() && t->numel() == n;
    aligned = aligned && aligned_for_vectors(t->raw_data(), itemsize(t->dtype()));
  }
  size_t k = 0;
  auto input_ptr = [&](auto type_tag_value) {
    using T = typename decltype(type_tag_value)::type;
    return static_cast<const T*>(inputs[k++]->raw_data());
  };
  // Brace-init evaluates left to right, so the k-th input pointer goes with the k-th type.
  const std::tuple<const In*...> ptrs{input_ptr(type_tag<In>{})...};
  Out* out_ptr = static_cast<Out*>(out.raw_data());

  std::apply(
      [&](const In*... in) {
        if (dense) {
          const unsigned grid = grid_for(aligned ? (n + kVectorWidth - 1) / kVectorWidth : n, kElementwiseThreads);
          if (aligned)
            GANTRY_LAUNCH(grid, kElementwiseThreads, 0, stream, dense_elementwise_kernel<true>)(n, f, out_ptr, in...);
          else
            GANTRY_LAUNCH(grid, kElementwiseThreads, 0, stream, dense_elementwise_kernel<false>)(n, f, out_ptr, in...);
          GANTRY_CUDA_LAUNCH_CHECK();
          return;
        }
        const IterGeometry<N> g = collapse_geometry<N>(out.shape(), operands, op);
        const unsigned grid = grid_for(n, kElementwiseThreads);
        if (fits_32bit(g, n)) {
          GANTRY_LAUNCH(grid, kElementwiseThreads, 0, stream, strided_elementwise_kernel<int32_t>)(
              OffsetCalculator<int32_t, N>(g), static_cast<int32_t>(n), f, out_ptr, in...);
        } else {
          GANTRY_LAUNCH(grid, kElementwiseThreads, 0, stream, strided_elementwise_kernel<int64_t>)(
              OffsetCalculator<int64_t, N>(g), n, f, out_ptr, in...);
        }
        GANTRY_CUDA_LAUNCH_CHECK();
      },
      ptrs);
}

}  // namespace gantry::cuda
