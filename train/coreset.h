#pragma once
// Greedy k-center core-set selection (Small-GAN, Alg. 1; pinned in DESIGN.md): the first point is
// chosen uniformly at random, then repeatedly the point farthest (L2) from the selected set, ties by
// lowest index. O(n k d): a running array of each point's distance to the selected set is updated
// with the newest centre only.
#include <cstdint>
#include <vector>

#include "engine/core/tensor.h"

namespace gantry {
class Generator;
}

namespace gantry::train {

// points: n x d row-major. Returns k distinct indices in selection order, starting with `first`.
template <typename T>
std::vector<int64_t> greedy_k_center(const T* points, int64_t n, int64_t d, int64_t k, int64_t first);

// points: [n, d] float tensor; the first point is drawn uniformly from `gen`. CPU tensors (and CUDA
// tensors in builds without the CUDA backend) select on the host; CUDA tensors use
// cuda::kcenter_select. Returns k indices as an i64 tensor [k] on the points' device.
Tensor greedy_k_center(const Tensor& points, int64_t k, Generator& gen);

// max over all points of the L2 distance to the nearest selected point (the k-center objective).
double minimax_radius(const Tensor& points, const std::vector<int64_t>& selected);

}  // namespace gantry::train
