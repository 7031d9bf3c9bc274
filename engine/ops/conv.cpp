// 2-D convolutions. conv2d, its input gradient and its weight gradient are three ops whose backward
// rules are written with each other: all three are bilinear, and the adjoint of each in one argument
// is another of the three, so gradients of any order close over the same kernels.
//   y = conv2d(x, w):            dx = input_grad(g, w),     dw = weight_grad(x, g)
//   z = input_grad(g, w):        dg = conv2d(gz, w),        dw = weight_grad(gz, g)
//   v = weight_grad(x, g):       dx = input_grad(g, gv),    dg = conv2d(x, gv)
// conv_transpose2d is input_grad with the output size spelled out, plus a bias.
#include "engine/dispatch/conv_kernels.h"
#include "engine/ops/image_checks.h"
#include "engine/ops/nn_ops.h"
#include "engine/ops/ops.h"

namespace gantry {

using autograd::BackwardContext;
using autograd::needs_grad;
using autograd::record;
using detail::check_image_operand;
using detail::check_same_kind;

namespace {

Conv2dParams make_params(const char* op, Size2 stride, Size2 padding, Size2 dilation) {
  GANTRY_CHECK(stride[0] >= 1 && stride[1] >= 1, op, ": stride must be positive, got ", size2_str(stride));
  GANTRY_CHECK(padding[0] >= 0 && padding[1] >= 0, op, ": padding must be non-negative, got ", size2_str(padding));
  GANTRY_CHECK(dilation[0] >= 1 && dilation[1] >= 1, op, ": dilation must be positive, got ", size2_str(dilation));
  return {stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1]};
}

// Output size of a convolution along one dim, or a clear error when the dilated kernel does not fit
// into the padded input.
int64_t conv_out_size(const char* op, int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil,
                      const Shape& x_shape, const Shape& w_shape) {
  const int64_t span = dil * (k - 1) + 1;
  GANTRY_CHECK(in + 2 * pad >= span, op, ": kernel (dilated size ", span, ") is larger than the padded input (size ",
               in + 2 * pad, ") for input ", shape_str(x_shape), " and weight ", shape_str(w_shape));
  return (in + 2 * pad - span) / stride + 1;
}

// Two 4-D operands of one floating dtype on one device.
void check_operands(const char* op, const char* what_a, const Tensor& a, const char* layout_a, const char* what_b,
                    const Tensor& b, const char* layout_b) {
  check_image_operand(op, what_a, a, layout_a);
  check_same_kind(op, what_b, b, a);
  check_image_operand(op, what_b, b, layout_b);
}

void check_bias(const char* op, const Tensor& bias, int64_t channels, const Tensor& ref) {
  if (!bias.defined()) return;
  check_same_kind(op, "bias", bias, ref);
  GANTRY_CHECK(bias.dim() == 1 && bias.shape()[0] == channels, op, ": expected a bias of shape [", channels,
               "], got ", shape_str(bias.shape()));
}

Tensor raw(const Tensor& t) { return t.detach().contiguous(); }

// The two gradient ops without argument checks (callers check with their own op name).
Tensor input_grad_unchecked(const Tensor& grad_out, const Tensor& weight, Size2 input_hw, const Conv2dParams& p);
Tensor weight_grad_unchecked(const Tensor& x, const Tensor& grad_out, Size2 kernel_hw, const Conv2dParams& p);

// The forward's output, computed by `kernel` (conv2d_forward_kernel or its fused-ReLU twin).
Tensor conv2d_output(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p,
                     const DispatchStub<Conv2dForwardKernel>& kernel) {
  const int64_t kh = w.shape()[2], kw = w.shape()[3];
  const int64_t oh = conv_out_size("conv2d", x.shape()[2], kh, p.stride_h, p.pad_h, p.dil_h, x.shape(), w.shape());
  const int64_t ow = conv_out_size("conv2d", x.shape()[3], kw, p.stride_w, p.pad_w, p.dil_w, x.shape(), w.shape());
  Tensor out = empty({x.shape()[0], w.shape()[0], oh, ow}, x.dtype(), x.device());
  kernel(x.device().type, out, raw(x), raw(w), bias.defined() ? raw(bias) : Tensor(), p);
  return out;
}

Tensor conv2d_unchecked(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p) {
  Tensor out = conv2d_output(x, w, bias, p, conv2d_forward_kernel);
  if (needs_grad({x, w, bias})) {
    const Size2 in_hw{x.shape()[2], x.shape()[3]}, k_hw{w.shape()[2], w.shape()[3]};
    record("conv2d", {x, w, bias}, {&out},
           [sx = SavedTensor(x), sw = SavedTensor(w), p, in_hw, k_hw](const BackwardContext& ctx) -> TensorList {
             const Tensor& g = ctx.grad(0);
             Tensor gx, gw, gb;
             if (ctx.needs_input_grad(0)) gx = input_grad_unchecked(g, ctx.unpack(sw), in_hw, p);
             if (ctx.needs_input_grad(1)) gw = weight_grad_unchecked(ctx.unpack(sx), g, k_hw, p);
             if (ctx.needs_input_grad(2)) gb = sum(g, {0, 2, 3});
             return {gx, gw, gb};
           });
  }
  return out;
}

Tensor input_grad_unchecked(const Tensor& grad_out, const Tensor& w, Size2 input_hw, const Conv2dParams& p) {
  Tensor out = empty({grad_out.shape()[0], w.shape()[1], input_hw[0], input_hw[1]}, grad_out.dtype(),
                     grad_out.device());
  conv2d_input_grad_kernel(out.device().type, out, raw(grad_out), raw(w), p);
  if (needs_grad({grad_out, w})) {
    const Size2 k_hw{w.shape()[2], w.shape()[3]};
    record("conv2d_input_grad", {grad_out, w}, {&out},
           [sg = SavedTensor(grad_out), sw = SavedTensor(w), p, k_hw](const BackwardContext& ctx) -> TensorList {
             const Tensor& gz = ctx.grad(0);
             Tensor dg, dw;
             if (ctx.needs_input_grad(0)) dg = conv2d_unchecked(gz, ctx.unpack(sw), Tensor(), p);
             if (ctx.needs_input_grad(1)) dw = weight_grad_unchecked(gz, ctx.unpack(sg), k_hw, p);
             return {dg, dw};
           });
  }
  return out;
}

Tensor weight_grad_unchecked(const Tensor& x, const Tensor& grad_out, Size2 kernel_hw, const Conv2dParams& p) {
  Tensor out = empty({grad_out.shape()[1], x.shape()[1], kernel_hw[0], kernel_hw[1]}, x.dtype(), x.device());
  conv2d_weight_grad_kernel(out.device().type, out, raw(x), raw(grad_out), p);
  if (needs_grad({x, grad_out})) {
    const Size2 in_hw{x.shape()[2], x.shape()[3]};
    record("conv2d_weight_grad", {x, grad_out}, {&out},
           [sx = SavedTensor(x), sg = SavedTensor(grad_out), p, in_hw](const BackwardContext& ctx) -> TensorList {
             const Tensor& gv = ctx.grad(0);
             Tensor dx, dg;
             if (ctx.needs_input_grad(0)) dx = input_grad_unchecked(ctx.unpack(sg), gv, in_hw, p);
             if (ctx.needs_input_grad(1)) dg = conv2d_unchecked(ctx.unpack(sx), gv, Tensor(), p);
             return {dx, dg};
           });
  }
  return out;
}

// Checks that grad_out [N, O, OH, OW] is what a convolution of an [N, C, input_hw] input with `w` gives.
void check_grad_out_geometry(const char* op, const Tensor& grad_out, const Shape& w_shape, Size2 input_hw,
                             const Conv2dParams& p) {
  const Shape x_shape{grad_out.shape()[0], w_shape[1], input_hw[0], input_hw[1]};
  const int64_t oh = conv_out_size(op, input_hw[0], w_shape[2], p.stride_h, p.pad_h, p.dil_h, x_shape, w_shape);
  const int64_t ow = conv_out_size(op, input_hw[1], w_shape[3], p.stride_w, p.pad_w, p.dil_w, x_shape, w_shape);
  GANTRY_CHECK(grad_out.shape()[1] == w_shape[0] && grad_out.shape()[2] == oh && grad_out.shape()[3] == ow, op,
               ": grad_out shape ", shape_str(grad_out.shape()), " does not match weight ", shape_str(w_shape),
               " and input size ", size2_str(input_hw), " (expected [", grad_out.shape()[0], ", ", w_shape[0],
               ", ", oh, ", ", ow, "])");
}

void check_conv2d_operands(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_operands(op, "input", x, "[N, C, H, W]", "weight", weight, "[out_channels, in_channels, KH, KW]");
  GANTRY_CHECK(x.shape()[1] == weight.shape()[1], op, ": input has ", x.shape()[1], " channels but weight ",
               shape_str(weight.shape()), " expects ", weight.shape()[1], " (input shape ", shape_str(x.shape()), ")");
  GANTRY_CHECK(weight.numel() > 0, op, ": empty weight ", shape_str(weight.shape()));
  check_bias(op, bias, weight.shape()[0], x);
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride, Size2 padding, Size2 dilation) {
  check_conv2d_operands("conv2d", x, weight, bias);
  return conv2d_unchecked(x, weight, bias, make_params("conv2d", stride, padding, dilation));
}

// With autograd history it is the two ops (their backward and double backward are conv2d's and
// relu's); without, a device with a fused kernel computes the ReLU while each output block is in cache.
Tensor conv2d_relu(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride, Size2 padding,
                   Size2 dilation) {
  check_conv2d_operands("conv2d_relu", x, weight, bias);
  const Conv2dParams p = make_params("conv2d_relu", stride, padding, dilation);
  if (needs_grad({x, weight, bias}) || !conv2d_relu_forward_kernel.has(x.device().type))
    return relu(conv2d_unchecked(x, weight, bias, p));
  return conv2d_output(x, weight, bias, p, conv2d_relu_forward_kernel);
}

Tensor conv2d_input_grad(const Tensor& grad_out, const Tensor& weight, Size2 input_hw, Size2 stride, Size2 padding,
                         Size2 dilation) {
  const char* op = "conv2d_input_grad";
  check_operands(op, "grad_out", grad_out, "[N, O, OH, OW]", "weight", weight, "[O, C, KH, KW]");
  GANTRY_CHECK(weight.numel() > 0, op, ": empty weight ", shape_str(weight.shape()));
  const Conv2dParams p = make_params(op, stride, padding, dilation);
  GANTRY_CHECK(input_hw[0] >= 1 && input_hw[1] >= 1, op, ": input size must be positive, got ", size2_str(input_hw));
  check_grad_out_geometry(op, grad_out, weight.shape(), input_hw, p);
  return input_grad_unchecked(grad_out, weight, input_hw, p);
}

Tensor conv2d_weight_grad(const Tensor& x, const Tensor& grad_out, Size2 kernel_hw, Size2 stride, Size2 padding,
                          Size2 dilation) {
  const char* op = "conv2d_weight_grad";
  check_operands(op, "input", x, "[N, C, H, W]", "grad_out", grad_out, "[N, O, OH, OW]");
  GANTRY_CHECK(kernel_hw[0] >= 1 && kernel_hw[1] >= 1, op, ": kernel size must be positive, got ",
               size2_str(kernel_hw));
  GANTRY_CHECK(grad_out.shape()[0] == x.shape()[0], op, ": batch sizes differ: input ", shape_str(x.shape()),
               ", grad_out ", shape_str(grad_out.shape()));
  const Conv2dParams p = make_params(op, stride, padding, dilation);
  const Shape w_shape{grad_out.shape()[1], x.shape()[1], kernel_hw[0], kernel_hw[1]};
  check_grad_out_geometry(op, grad_out, w_shape, {x.shape()[2], x.shape()[3]}, p);
  return weight_grad_unchecked(x, grad_out, kernel_hw, p);
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride, Size2 padding,
                        Size2 output_padding, Size2 dilation) {
  const char* op = "conv_transpose2d";
  check_operands(op, "input", x, "[N, C_in, H, W]", "weight", weight, "[in_channels, out_channels, KH, KW]");
  GANTRY_CHECK(x.shape()[1] == weight.shape()[0], op, ": input has ", x.shape()[1], " channels but weight ",
               shape_str(weight.shape()), " expects ", weight.shape()[0], " (input shape ", shape_str(x.shape()), ")");
  GANTRY_CHECK(weight.numel() > 0, op, ": empty weight ", shape_str(weight.shape()));
  check_bias(op, bias, weight.shape()[1], x);
  const Conv2dParams p = make_params(op, stride, padding, dilation);
  GANTRY_CHECK(output_padding[0] >= 0 && output_padding[1] >= 0 && output_padding[0] < stride[0] &&
                   output_padding[1] < stride[1],
               op, ": output_padding ", size2_str(output_padding), " must be non-negative and smaller than the stride ",
               size2_str(stride));
  Size2 out_hw{};
  for (int d = 0; d < 2; ++d)
    out_hw[d] = (x.shape()[2 + d] - 1) * stride[d] - 2 * padding[d] + dilation[d] * (weight.shape()[2 + d] - 1) +
                output_padding[d] + 1;
  GANTRY_CHECK(out_hw[0] > 0 && out_hw[1] > 0, op, ": output size ", size2_str(out_hw),
               " is not positive for input ", shape_str(x.shape()), ", weight ", shape_str(weight.shape()),
               " and padding ", size2_str(padding));
  Tensor out = input_grad_unchecked(x, weight, out_hw, p);
  if (bias.defined()) out = add(out, bias.reshape({1, bias.shape()[0], 1, 1}));
  return out;
}

}  // namespace gantry
