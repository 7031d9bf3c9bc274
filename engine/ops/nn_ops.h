#pragma once
// Image-layer ops with PyTorch semantics (NCHW activations, OIHW weights): convolutions, pooling,
// resampling, normalisation and embedding lookups. Each is differentiable; the ones a WGAN-GP critic
// uses (conv2d, avg_pool2d, layer_norm, the resampling ops) have double backward as well.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "engine/core/tensor.h"

namespace gantry {

using Size2 = std::array<int64_t, 2>;  // {height, width}
std::string size2_str(Size2 s);        // "HxW", for messages

// ---- convolution (engine/ops/conv.cpp) ----
// x [N, C, H, W], weight [O, C, KH, KW], bias [O] (optional) -> [N, O, OH, OW] with
// OH = floor((H + 2 padding_h - dilation_h (KH - 1) - 1) / stride_h) + 1 (likewise OW). groups = 1.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), Size2 stride = {1, 1},
              Size2 padding = {0, 0}, Size2 dilation = {1, 1});
// relu(conv2d(...)): the same values, gradients and double backward; without autograd history the
// CPU computes it in one pass (each output block is rectified while still in cache).
Tensor conv2d_relu(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), Size2 stride = {1, 1},
                   Size2 padding = {0, 0}, Size2 dilation = {1, 1});
// The gradient of conv2d w.r.t. its input as an op of its own (a transposed convolution of grad_out
// [N, O, OH, OW] with weight [O, C, KH, KW]) -> [N, C, input_hw]. Differentiable in both arguments.
Tensor conv2d_input_grad(const Tensor& grad_out, const Tensor& weight, Size2 input_hw, Size2 stride = {1, 1},
                         Size2 padding = {0, 0}, Size2 dilation = {1, 1});
// The gradient of conv2d w.r.t. its weight: x [N, C, H, W] correlated with grad_out [N, O, OH, OW]
// -> [O, C, kernel_hw]. Differentiable in both arguments.
Tensor conv2d_weight_grad(const Tensor& x, const Tensor& grad_out, Size2 kernel_hw, Size2 stride = {1, 1},
                          Size2 padding = {0, 0}, Size2 dilation = {1, 1});
// x [N, C_in, H, W], weight [C_in, C_out, KH, KW], bias [C_out] (optional) -> [N, C_out, OH, OW] with
// OH = (H - 1) stride_h - 2 padding_h + dilation_h (KH - 1) + output_padding_h + 1.
// output_padding must be smaller than the stride (in each dim). groups = 1.
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), Size2 stride = {1, 1},
                        Size2 padding = {0, 0}, Size2 output_padding = {0, 0}, Size2 dilation = {1, 1});

// ---- pooling (engine/ops/pool.cpp); ceil_mode = false, stride defaults to the kernel size ----
// count_include_pad: whether padded positions count in the divisor (PyTorch's default true).
// padding must be at most half the kernel size. Double backward: yes (the backward is an op).
Tensor avg_pool2d(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride = std::nullopt,
                  Size2 padding = {0, 0}, bool count_include_pad = true);
// Windows [floor(i H / OH), ceil((i + 1) H / OH)) like torch; {1, 1} is global average pooling.
Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size);
// Max over each window (padding never wins; NaN does). indices: int64 h * W + w of the first maximum
// in each input plane, like torch. The gradient goes to that position (double backward: yes).
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, Size2 kernel_size,
                                                  std::optional<Size2> stride = std::nullopt,
                                                  Size2 padding = {0, 0});
Tensor max_pool2d(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride = std::nullopt,
                  Size2 padding = {0, 0});

// ---- resampling (engine/ops/resample.cpp): torch.nn.functional.interpolate, antialias = false ----
// Nearest ("nearest" mode): source index floor(dst * scale) clamped, scale = in/out for a size, or
// 1/scale_factor for a scale factor (output floor(in * scale_factor)), computed in float like torch.
Tensor interpolate_nearest(const Tensor& x, Size2 size);
Tensor interpolate_nearest(const Tensor& x, double scale_factor);
// Bilinear; align_corners = false uses half-pixel centres (source (dst + 0.5) scale - 0.5, clamped
// at 0), the resize of pytorch-fid. Any output size, up or down.
Tensor interpolate_bilinear(const Tensor& x, Size2 size, bool align_corners = false);
Tensor interpolate_bilinear(const Tensor& x, double scale_factor, bool align_corners = false);

// ---- normalisation and embedding (engine/ops/norm.cpp); double backward: yes ----
// x [N, C, ...]. Training: normalise with the batch mean and biased variance over every dim but 1,
// and (when running stats are given) update them in place: r = (1 - momentum) r + momentum s with the
// unbiased variance for running_var. Evaluation: normalise with the running stats. weight and bias
// ([C]) are optional.
Tensor batch_norm(const Tensor& x, Tensor running_mean, Tensor running_var, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), bool training = true, double momentum = 0.1, double eps = 1e-5);
// Normalises over the trailing dims given by normalized_shape (biased variance); weight and bias
// (shape normalized_shape) are optional.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);
// Rows of weight [V, D] picked by int64 indices of any shape -> indices.shape + [D]. The weight's
// gradient adds up the rows of repeated indices (scatter_add).
Tensor embedding(const Tensor& indices, const Tensor& weight);

// ---- attention (engine/ops/attention.cpp); double backward: yes ----
// q [B, Lq, D], k [B, Lk, D], v [B, Lk, Dv] -> softmax(scale * q k^T, over the Lk keys) v [B, Lq, Dv].
// scale defaults to 1 (SAGAN's attention; torch's scaled_dot_product_attention uses 1/sqrt(D)).
// Runs the device's attention kernel when one is registered (engine/dispatch/attention_kernels.h),
// otherwise matmul + softmax; the backward recomputes the attention weights.
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale = 1.0);

}  // namespace gantry
