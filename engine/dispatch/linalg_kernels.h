#pragma once
// Kernel signatures of the matrix products and their dispatch tables.
//
// Operands are passed as stored row-major matrices: the last dim has unit stride and the stride of
// the dim before it (the leading dimension) is >= max(1, cols), except that a dim of size 1 may
// carry any stride. A transposed operand is passed as its stored matrix plus a transpose flag, so the
// op never copies a transposed view: op(x) = trans ? x^T : x.
//
//   gemm:         c[m, n] = alpha * op(a) op(b) + beta * c                      (2-D tensors)
//   batched_gemm: the same for every batch entry of 3-D tensors [batch, rows, cols]; the batch stride
//                 of a or b may be 0 (a broadcast operand), c's may not.
//
// c is preallocated by the op (never aliasing a or b). beta == 0 means c's old contents are ignored,
// NaNs included. dtypes: float32 and float64 (BLAS on the CPU) and int64 (plain loops).
#include "engine/core/tensor.h"
#include "engine/dispatch/dispatch.h"

namespace gantry {

using GemmKernel = void (*)(Tensor& c, const Tensor& a, const Tensor& b, bool trans_a, bool trans_b,
                            double alpha, double beta);
using BatchedGemmKernel = void (*)(Tensor& c, const Tensor& a, const Tensor& b, bool trans_a, bool trans_b,
                                   double alpha, double beta);
GANTRY_DECLARE_DISPATCH(GemmKernel, gemm_kernel);
GANTRY_DECLARE_DISPATCH(BatchedGemmKernel, batched_gemm_kernel);

}  // namespace gantry
