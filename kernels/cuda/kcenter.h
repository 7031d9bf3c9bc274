#pragma once
// Greedy k-center selection (Small-GAN's core-set sampler) on the GPU: starting from `first_index`,
// repeatedly select the point farthest (L2) from the selected set, ties to the lowest index. A
// selected point is never selected again (with duplicate points the next is the lowest unselected
// index at distance 0). Runs as one persistent kernel, not one launch per selected point.
#include <cstdint>

#include "engine/core/tensor.h"

namespace gantry::cuda {

// points: [n, d] float32/float64 on a CUDA device (any strides); distances are accumulated in double
// as in train/coreset.cpp; 0 <= first_index < n; 0 <= k <= n.
// Returns the k selected indices, in selection order, as an int64 tensor [k] on the same device.
Tensor kcenter_select(const Tensor& points, int64_t k, int64_t first_index);

}  // namespace gantry::cuda
