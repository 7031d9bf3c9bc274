// Pooling ops. Every window is a rectangle of the unpadded input (PoolWindows), so avg_pool2d and
// adaptive_avg_pool2d are one averaging op whose backward is its adjoint op, and vice versa (double
// backward closes); max_pool2d records the argmax indices and scatters the gradient through
// scatter_add, whose own backward is a gather.
#include <memory>

#include "engine/dispatch/pool_kernels.h"
#include "engine/ops/image_checks.h"
#include "engine/ops/nn_ops.h"
#include "engine/ops/ops.h"

namespace gantry {

using autograd::BackwardContext;
using autograd::needs_grad;
using autograd::record;

namespace {

using WindowsPtr = std::shared_ptr<const PoolWindows>;

// One dim of a kernel/stride/padding pool (ceil_mode = false): clipped ranges and the divisors of
// avg_pool2d (the window size clipped to the padded input when padding counts, else to the input).
void sliding_windows_1d(int64_t in, int64_t k, int64_t s, int64_t p, bool count_pad, std::vector<int64_t>& start,
                        std::vector<int64_t>& end, std::vector<double>& divisor) {
  const int64_t out = (in + 2 * p - k) / s + 1;
  for (int64_t i = 0; i < out; ++i) {
    const int64_t lo = i * s - p, hi = std::min(lo + k, in + p);
    const int64_t clo = std::max<int64_t>(lo, 0), chi = std::min(hi, in);
    start.push_back(clo);
    end.push_back(chi);
    divisor.push_back(static_cast<double>(count_pad ? hi - lo : chi - clo));
  }
}

WindowsPtr sliding_windows(const char* op, const Tensor& x, Size2 k, std::optional<Size2> stride_opt, Size2 p,
                           bool count_pad) {
  const Size2 s = stride_opt.value_or(k);
  GANTRY_CHECK(k[0] >= 1 && k[1] >= 1, op, ": kernel_size must be positive, got ", size2_str(k));
  GANTRY_CHECK(s[0] >= 1 && s[1] >= 1, op, ": stride must be positive, got ", size2_str(s));
  GANTRY_CHECK(p[0] >= 0 && p[1] >= 0 && 2 * p[0] <= k[0] && 2 * p[1] <= k[1], op, ": padding ", size2_str(p),
               " must be non-negative and at most half the kernel size ", size2_str(k));
  GANTRY_CHECK(x.shape()[2] + 2 * p[0] >= k[0] && x.shape()[3] + 2 * p[1] >= k[1], op, ": kernel ", size2_str(k),
               " is larger than the padded input (input ", shape_str(x.shape()), ", padding ", size2_str(p), ")");
  auto w = std::make_shared<PoolWindows>();
  sliding_windows_1d(x.shape()[2], k[0], s[0], p[0], count_pad, w->row_start, w->row_end, w->row_divisor);
  sliding_windows_1d(x.shape()[3], k[1], s[1], p[1], count_pad, w->col_start, w->col_end, w->col_divisor);
  return w;
}

// PyTorch's adaptive ranges: [floor(i in / out), ceil((i + 1) in / out)).
void adaptive_windows_1d(int64_t in, int64_t out, std::vector<int64_t>& start, std::vector<int64_t>& end,
                         std::vector<double>& divisor) {
  for (int64_t i = 0; i < out; ++i) {
    const int64_t lo = (i * in) / out, hi = ((i + 1) * in + out - 1) / out;
    start.push_back(lo);
    end.push_back(hi);
    divisor.push_back(static_cast<double>(hi - lo));
  }
}

Shape pooled_shape(const Tensor& x, const PoolWindows& w) {
  return {x.shape()[0], x.shape()[1], static_cast<int64_t>(w.row_start.size()), static_cast<int64_t>(w.col_start.size())};
}

Tensor window_average_backward(const Tensor& grad_out, const WindowsPtr& windows, Size2 input_hw);

Tensor window_average(const Tensor& x, const WindowsPtr& windows, const char* op) {
  Tensor out = empty(pooled_shape(x, *windows), x.dtype(), x.device());
  avg_pool2d_kernel(x.device().type, out, x.detach().contiguous(), *windows);
  if (needs_grad({x})) {
    const Size2 in_hw{x.shape()[2], x.shape()[3]};
    record(op, {x}, {&out}, [windows, in_hw](const BackwardContext& ctx) -> TensorList {
      return {window_average_backward(ctx.grad(0), windows, in_hw)};
    });
  }
  return out;
}

Tensor window_average_backward(const Tensor& grad_out, const WindowsPtr& windows, Size2 input_hw) {
  Tensor out = empty({grad_out.shape()[0], grad_out.shape()[1], input_hw[0], input_hw[1]}, grad_out.dtype(),
                     grad_out.device());
  avg_pool2d_backward_kernel(out.device().type, out, grad_out.detach().contiguous(), *windows);
  if (needs_grad({grad_out})) {
    record("avg_pool2d_backward", {grad_out}, {&out}, [windows](const BackwardContext& ctx) -> TensorList {
      return {window_average(ctx.grad(0), windows, "avg_pool2d")};
    });
  }
  return out;
}

}  // namespace

Tensor avg_pool2d(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride, Size2 padding,
                  bool count_include_pad) {
  detail::check_image_operand("avg_pool2d", "input", x);
  return window_average(x, sliding_windows("avg_pool2d", x, kernel_size, stride, padding, count_include_pad),
                        "avg_pool2d");
}

Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size) {
  detail::check_image_operand("adaptive_avg_pool2d", "input", x);
  GANTRY_CHECK(output_size[0] >= 1 && output_size[1] >= 1, "adaptive_avg_pool2d: output size must be positive, got ",
               size2_str(output_size));
  GANTRY_CHECK(x.shape()[2] >= 1 && x.shape()[3] >= 1, "adaptive_avg_pool2d: empty input plane in ",
               shape_str(x.shape()));
  auto w = std::make_shared<PoolWindows>();
  adaptive_windows_1d(x.shape()[2], output_size[0], w->row_start, w->row_end, w->row_divisor);
  adaptive_windows_1d(x.shape()[3], output_size[1], w->col_start, w->col_end, w->col_divisor);
  return window_average(x, w, "adaptive_avg_pool2d");
}

std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride,
                                                  Size2 padding) {
  detail::check_image_operand("max_pool2d", "input", x);
  const WindowsPtr w = sliding_windows("max_pool2d", x, kernel_size, stride, padding, false);
  const Shape out_shape = pooled_shape(x, *w);
  Tensor out = empty(out_shape, x.dtype(), x.device());
  Tensor indices = empty(out_shape, DType::i64, x.device());
  max_pool2d_kernel(x.device().type, out, indices, x.detach().contiguous(), *w);
  if (needs_grad({x})) {
    const Shape in_shape = x.shape();
    record("max_pool2d", {x}, {&out}, [in_shape, indices](const BackwardContext& ctx) -> TensorList {
      const int64_t n = in_shape[0], c = in_shape[1];
      const Tensor flat_index = indices.reshape({n, c, -1});
      const Tensor flat_grad = ctx.grad(0).reshape({n, c, -1});
      return {scatter_add({n, c, in_shape[2] * in_shape[3]}, 2, flat_index, flat_grad).view(in_shape)};
    });
  }
  return {out, indices};
}

Tensor max_pool2d(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride, Size2 padding) {
  return max_pool2d_with_indices(x, kernel_size, stride, padding).first;
}

}  // namespace gantry
