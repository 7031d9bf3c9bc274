// Greedy k-center in one kernel launch: a single block keeps every point's squared distance to the
// selected set in a workspace, and per round (1) folds in the newest center, (2) finds the farthest
// point with a block-wide arg-max. One block is enough for the sampler's sizes (a few thousand points
// of a few dozen dims per step) and avoids any grid-wide synchronisation.
#include <cuda_runtime.h>

#include "kernels/cuda/kcenter.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/runtime.h"
#include "kernels/cuda/workspace.h"

namespace gantry::cuda {
namespace {

constexpr int kThreads = 1024;
constexpr int kWarps = kThreads / 32;

struct Candidate {
  double dist;  // squared distance to the selected set; -1 once selected
  int64_t index;
};

// Farther wins; equal distances go to the lower index.
__device__ __forceinline__ Candidate better(Candidate a, Candidate b) {
  if (a.dist != b.dist) return a.dist > b.dist ? a : b;
  return a.index < b.index ? a : b;
}

__device__ Candidate block_argmax(Candidate c, Candidate* warp_best) {
  for (int off = 16; off > 0; off /= 2) {
    Candidate o;
    o.dist = __shfl_down_sync(0xffffffffu, c.dist, off);
    o.index = __shfl_down_sync(0xffffffffu, c.index, off);
    c = better(c, o);
  }
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warp_best[warp] = c;
  __syncthreads();
  if (warp == 0) {
    c = lane < kWarps ? warp_best[lane] : Candidate{-2.0, INT64_MAX};
    for (int off = 16; off > 0; off /= 2) {
      Candidate o;
      o.dist = __shfl_down_sync(0xffffffffu, c.dist, off);
      o.index = __shfl_down_sync(0xffffffffu, c.index, off);
      c = better(c, o);
    }
    if (lane == 0) warp_best[0] = c;
  }
  __syncthreads();
  const Candidate best = warp_best[0];
  __syncthreads();  // warp_best is reused by the next round
  return best;
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    kcenter_kernel(const T* points, int64_t n, int64_t d, int64_t row_stride, int64_t col_stride, int64_t k,
                   int64_t first, double* min_dist, int64_t* selected) {
  __shared__ Candidate warp_best[kWarps];
  for (int64_t i = threadIdx.x; i < n; i += kThreads) min_dist[i] = INFINITY;
  int64_t center = first;
  for (int64_t round = 0; round < k; ++round) {
    if (threadIdx.x == 0) selected[round] = center;
    if (round + 1 == k) break;
    const T* c = points + center * row_stride;
    Candidate local{-2.0, INT64_MAX};
    for (int64_t i = threadIdx.x; i < n; i += kThreads) {
      double dist = -1.0;
      if (i != center && min_dist[i] >= 0.0) {
        const T* p = points + i * row_stride;
        double s = 0.0;  // in double, like the CPU sampler (train/coreset.cpp), so both pick the same points
        for (int64_t j = 0; j < d; ++j) {
          const double diff = static_cast<double>(p[j * col_stride]) - static_cast<double>(c[j * col_stride]);
          s += diff * diff;
        }
        dist = fmin(min_dist[i], s);
      }
      min_dist[i] = dist;  // each i is owned by one thread, so no race
      local = better(local, Candidate{dist, i});
    }
    center = block_argmax(local, warp_best).index;
  }
}

}  // namespace

Tensor kcenter_select(const Tensor& points, int64_t k, int64_t first_index) {
  check_device(points.device(), "kcenter_select");
  GANTRY_CHECK(points.dim() == 2, "kcenter_select: expected points [n, d], got shape ", shape_str(points.shape()));
  GANTRY_CHECK(is_floating(points.dtype()), "kcenter_select: expected float32 or float64 points, got ",
               dtype_name(points.dtype()));
  const int64_t n = points.size(0), d = points.size(1);
  GANTRY_CHECK(k >= 0 && k <= n, "kcenter_select: k = ", k, " must be in [0, ", n, "] for ", n, " points");
  GANTRY_CHECK(k == 0 || (first_index >= 0 && first_index < n), "kcenter_select: first_index ", first_index,
               " out of range for ", n, " points");
  Tensor selected = empty({k}, DType::i64, points.device());
  if (k == 0) return selected;
  DeviceGuard guard(points.device());
  Workspace min_dist(static_cast<size_t>(n) * sizeof(double), points.device().index);
  dispatch_floating(points.dtype(), "kcenter_select", [&](auto tag) {
    using T = typename decltype(tag)::type;
    GANTRY_LAUNCH(1, kThreads, 0, current_stream(points.device().index), kcenter_kernel<T>)(
        static_cast<const T*>(points.raw_data()), n, d, points.strides()[0], points.strides()[1], k, first_index,
        min_dist.as<double>(), selected.data_ptr<int64_t>());
  });
  GANTRY_CUDA_LAUNCH_CHECK();
  return selected;
}

}  // namespace gantry::cuda
