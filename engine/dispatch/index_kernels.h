#pragma once
// Kernel signatures of the indexing ops and their dispatch tables. Index tensors are int64 and may be
// strided (stride 0 on broadcast dims). Kernels check every index against the indexed dim and throw
// gantry::Error naming `op` (the user-facing op) for one out of range, before writing it.
#include <cstdint>

#include "engine/core/tensor.h"
#include "engine/dispatch/dispatch.h"

namespace gantry {

// out[p] = x[p with p[dim] replaced by index[p]] for every position p of index.
// out has index's shape (contiguous); index.size(d) <= x.size(d) for d != dim; any dtype.
using GatherKernel = void (*)(Tensor& out, const Tensor& x, int64_t dim, const Tensor& index, const char* op);
// out[p with p[dim] replaced by index[p]] += src[p] for every position p of index (src has index's
// shape); out is zero-filled and contiguous; floating dtypes.
using ScatterAddKernel = void (*)(Tensor& out, int64_t dim, const Tensor& index, const Tensor& src, const char* op);
// The k largest (or smallest) entries of x along dim, best first; ties go to the lower index and NaN
// ranks above every number. values (x's dtype) and indices (int64) are contiguous with size k at dim.
using TopkKernel = void (*)(Tensor& values, Tensor& indices, const Tensor& x, int64_t k, int64_t dim, bool largest);

GANTRY_DECLARE_DISPATCH(GatherKernel, gather_kernel);
GANTRY_DECLARE_DISPATCH(ScatterAddKernel, scatter_add_kernel);
GANTRY_DECLARE_DISPATCH(TopkKernel, topk_kernel);

}  // namespace gantry
