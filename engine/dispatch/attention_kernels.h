#pragma once
// Kernel signature of dot-product attention and its dispatch table.
//
//   out[b] = softmax(scale * q[b] k[b]^T, over keys) v[b]
//
// q [B, Lq, D], k [B, Lk, D], v [B, Lk, Dv] and out [B, Lq, Dv] are contiguous with one floating dtype
// (float32 or float64); Lk >= 1; out is preallocated and fully overwritten. A kernel may compute the
// result in blocks of queries (or with an online softmax over blocks of keys) so the [Lq, Lk] score
// matrix never has to exist in full.
//
// The table is optional: attention() falls back to a composite of engine ops (matmul, softmax) on a
// device whose backend has not registered a kernel here.
#include "engine/core/tensor.h"
#include "engine/dispatch/dispatch.h"

namespace gantry {

using AttentionKernel = void (*)(Tensor& out, const Tensor& q, const Tensor& k, const Tensor& v, double scale);
GANTRY_DECLARE_DISPATCH(AttentionKernel, attention_kernel);

}  // namespace gantry
