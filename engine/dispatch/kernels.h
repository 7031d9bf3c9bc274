#pragma once
// Kernel signatures of the core ops and their dispatch tables. Kernels receive tensors already
// checked and shaped by the op (engine/ops/); outputs are preallocated and contiguous unless noted.
// Inputs of elementwise kernels are broadcast views (stride 0 on broadcast dims) of the output shape.
#include <cstdint>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/dispatch/dispatch.h"

namespace gantry {

// ---- memory ----
using FillKernel = void (*)(Tensor& dst, double value);                 // dst may be strided
using CopyKernel = void (*)(Tensor& dst, const Tensor& src);            // same device; dtype cast
// Copies between devices (both contiguous, same dtype and nbytes); registered by a device backend
// under the non-CPU device type involved.
using CrossDeviceCopyKernel = void (*)(Tensor& dst, const Tensor& src);
GANTRY_DECLARE_DISPATCH(FillKernel, fill_kernel);
GANTRY_DECLARE_DISPATCH(CopyKernel, copy_kernel);
GANTRY_DECLARE_DISPATCH(CrossDeviceCopyKernel, cross_device_copy_kernel);

// ---- elementwise ----
enum class UnaryOp : uint8_t {
  neg, exp, log, sqrt, abs, sign, relu, tanh, sigmoid,
  // parameterised by `alpha`/`beta` of UnaryParams:
  pow_scalar,    // x^alpha
  leaky_relu,    // x > 0 ? x : alpha x
  softplus,      // beta-scaled softplus with threshold alpha: (1/beta) log(1 + exp(beta x))
  clamp,         // clamp to [alpha, beta] (+-inf for an open side)
  add_scalar, mul_scalar, rsub_scalar, rdiv_scalar,  // x + a, x * a, a - x, a / x
  step,          // x > alpha ? 1 : beta   (relu/leaky-relu derivative masks)
};
struct UnaryParams {
  double alpha = 0, beta = 0;
};
enum class BinaryOp : uint8_t {
  add,
  sub,
  mul,
  div,
  pow,
  maximum,
  minimum,
  // parameterised by `alpha` of BinaryParams:
  gate,  // b > 0 ? a : alpha a   (relu/leaky-relu backward in one pass: a the gradient, b the input)
};
struct BinaryParams {
  double alpha = 0;
};
enum class CompareOp : uint8_t { gt, ge, lt, le, eq, ne };

using UnaryKernel = void (*)(UnaryOp op, UnaryParams p, Tensor& out, const Tensor& x);
using BinaryKernel = void (*)(BinaryOp op, BinaryParams p, Tensor& out, const Tensor& a, const Tensor& b);
using CompareKernel = void (*)(CompareOp op, Tensor& out_u8, const Tensor& a, const Tensor& b);
using WhereKernel = void (*)(Tensor& out, const Tensor& mask_u8, const Tensor& a, const Tensor& b);
GANTRY_DECLARE_DISPATCH(UnaryKernel, unary_kernel);
GANTRY_DECLARE_DISPATCH(BinaryKernel, binary_kernel);
GANTRY_DECLARE_DISPATCH(CompareKernel, compare_kernel);
GANTRY_DECLARE_DISPATCH(WhereKernel, where_kernel);

}  // namespace gantry
