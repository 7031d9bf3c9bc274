// Matrix products (matmul, linear) and the norms built on them. The forward passes hand stored
// row-major matrices plus transpose flags to the gemm kernels, so transposed views are never copied;
// an operand is copied only when neither it nor its transpose has a unit inner stride. Backward rules
// are written with engine ops (matmul, transpose, sum), so double backward works.
#include <cmath>
#include <limits>
#include <optional>

#include "engine/dispatch/kernels.h"
#include "engine/dispatch/linalg_kernels.h"
#include "engine/ops/ops.h"

namespace gantry {

using autograd::BackwardContext;
using autograd::needs_grad;
using autograd::record;

namespace {

// ---- forward geometry (raw views, no autograd) ------------------------------------------------

// A stored matrix batch for the gemm kernels: `stored` is [batch, rows, cols] with a unit inner
// stride; the logical operand is stored (trans = false) or its per-batch transpose (trans = true).
struct GemmOperand {
  Tensor stored;
  bool trans = false;
};

// Whether a [rows, cols] matrix with strides (row_stride, col_stride) is stored row-major with a
// valid leading dimension. Strides of size-1 dims do not matter and are normalised here.
bool row_major(int64_t rows, int64_t cols, int64_t& row_stride, int64_t& col_stride) {
  if (cols <= 1) col_stride = 1;
  if (rows <= 1) row_stride = std::max<int64_t>(1, cols);
  return col_stride == 1 && row_stride >= std::max<int64_t>(1, cols);
}

// Makes a [batch, rows, cols] tensor consumable by gemm without copying when its layout allows.
GemmOperand as_gemm_operand(const Tensor& t) {
  const int64_t batch = t.shape()[0], rows = t.shape()[1], cols = t.shape()[2];
  const int64_t batch_stride = batch <= 1 ? 0 : t.strides()[0];
  int64_t rs = t.strides()[1], cs = t.strides()[2];
  if (row_major(rows, cols, rs, cs)) return {make_view(t, {batch, rows, cols}, {batch_stride, rs, cs}, t.offset()), false};
  rs = t.strides()[1];
  cs = t.strides()[2];
  if (row_major(cols, rows, cs, rs))  // the transpose is stored row-major
    return {make_view(t, {batch, cols, rows}, {batch_stride, cs, rs}, t.offset()), true};
  return {t.contiguous(), false};
}

// Views the first `count` dims of `t` as one dim when the strides allow it (no copy).
std::optional<Tensor> merge_leading_dims(const Tensor& t, int64_t count) {
  int64_t merged = 1, stride = 0;
  bool have_inner = false;
  for (int64_t d = count - 1; d >= 0; --d) {
    const int64_t size = t.shape()[d];
    if (size == 1) continue;
    if (have_inner && t.strides()[d] != stride * merged) return std::nullopt;
    if (!have_inner) stride = t.strides()[d];
    have_inner = true;
    merged *= size;
  }
  if (shape_numel(Shape(t.shape().begin(), t.shape().begin() + count)) == 0) merged = 0;
  Shape shape{merged}, strides{stride};
  shape.insert(shape.end(), t.shape().begin() + count, t.shape().end());
  strides.insert(strides.end(), t.strides().begin() + count, t.strides().end());
  return make_view(t, shape, strides, t.offset());
}

// `t` ([..., rows, cols], no history) broadcast to batch_shape + [rows, cols] and viewed as
// [batch, rows, cols]; copies only when the broadcast batch dims cannot be merged into one stride.
Tensor as_batched(const Tensor& t, const Shape& batch_shape) {
  const int64_t nb = static_cast<int64_t>(batch_shape.size());
  Shape target = batch_shape;
  target.push_back(t.shape()[t.dim() - 2]);
  target.push_back(t.shape()[t.dim() - 1]);
  const Tensor expanded = t.expand(target);
  if (auto merged = merge_leading_dims(expanded, nb)) return *merged;
  return *merge_leading_dims(expanded.contiguous(), nb);
}

// c [batch, m, n] (contiguous) = alpha * a [batch, m, k] b [batch, k, n] + beta * c.
void run_gemm(Tensor& c, const Tensor& a, const Tensor& b, double alpha, double beta) {
  const GemmOperand ga = as_gemm_operand(a), gb = as_gemm_operand(b);
  const DeviceType dev = c.device().type;
  if (c.shape()[0] == 1) {
    Tensor c2 = make_view(c, {c.shape()[1], c.shape()[2]}, {c.strides()[1], c.strides()[2]}, c.offset());
    const Tensor& sa = ga.stored;
    const Tensor& sb = gb.stored;
    const Tensor a2 = make_view(sa, {sa.shape()[1], sa.shape()[2]}, {sa.strides()[1], sa.strides()[2]}, sa.offset());
    const Tensor b2 = make_view(sb, {sb.shape()[1], sb.shape()[2]}, {sb.strides()[1], sb.strides()[2]}, sb.offset());
    gemm_kernel(dev, c2, a2, b2, ga.trans, gb.trans, alpha, beta);
  } else {
    batched_gemm_kernel(dev, c, ga.stored, gb.stored, ga.trans, gb.trans, alpha, beta);
  }
}

void check_matmul_operands(const Tensor& a, const Tensor& b, const char* op) {
  GANTRY_CHECK(a.defined() && b.defined(), op, ": undefined operand");
  GANTRY_CHECK(a.dtype() == b.dtype(), op, ": dtype mismatch: ", dtype_name(a.dtype()), " (shape ",
               shape_str(a.shape()), ") vs ", dtype_name(b.dtype()), " (shape ", shape_str(b.shape()), ")");
  GANTRY_CHECK(a.dtype() == DType::f32 || a.dtype() == DType::f64 || a.dtype() == DType::i64, op,
               ": expected float32, float64 or int64 operands, got ", dtype_name(a.dtype()));
  GANTRY_CHECK(a.device() == b.device(), op, ": operands on different devices: ", a.device().str(), " vs ",
               b.device().str());
}

// The product of two operands with at least 2 dims each; no autograd.
Tensor matmul_forward(const Tensor& a_in, const Tensor& b_in) {
  const Tensor a = a_in.detach(), b = b_in.detach();
  const int64_t m = a.shape()[a.dim() - 2], k = a.shape()[a.dim() - 1], n = b.shape()[b.dim() - 1];
  const Shape batch = broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2),
                                       Shape(b.shape().begin(), b.shape().end() - 2), "matmul");
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor out = empty(out_shape, a.dtype(), a.device());
  if (out.numel() == 0) return out;
  if (k == 0) {
    fill_kernel(out.device().type, out, 0.0);
    return out;
  }
  const int64_t batch_numel = shape_numel(batch);
  Tensor c = make_view(out, {batch_numel, m, n}, {m * n, n, 1}, 0);
  // A batched a times an unbatched b is one tall product when a's rows merge into one stride.
  if (b.dim() == 2 && a.dim() > 2) {
    if (auto rows = merge_leading_dims(a, a.dim() - 1)) {
      const Tensor a3 = make_view(*rows, {1, batch_numel * m, k}, {0, rows->strides()[0], rows->strides()[1]},
                                  rows->offset());
      Tensor c3 = make_view(out, {1, batch_numel * m, n}, {0, n, 1}, 0);
      run_gemm(c3, a3, as_batched(b, {}), 1.0, 0.0);
      return out;
    }
  }
  run_gemm(c, as_batched(a, batch), as_batched(b, batch), 1.0, 0.0);
  return out;
}

// matmul for operands with at least 2 dims each, with its autograd rule.
Tensor matmul_nd(const Tensor& a, const Tensor& b) {
  Tensor out = matmul_forward(a, b);
  if (needs_grad({a, b})) {
    record("matmul", {a, b}, {&out}, [sa = SavedTensor(a), sb = SavedTensor(b)](const BackwardContext& ctx) -> TensorList {
      const Tensor& g = ctx.grad(0);
      const Tensor a = ctx.unpack(sa), b = ctx.unpack(sb);
      Tensor ga, gb;
      if (ctx.needs_input_grad(0)) {
        ga = matmul(g, b.transpose(-1, -2));
        if (ga.shape() != a.shape()) ga = sum_to(ga, a.shape());
      }
      if (ctx.needs_input_grad(1)) {
        if (b.dim() == 2 && a.dim() > 2) {  // fold the batch into the rows instead of summing products
          const int64_t k = a.shape().back(), n = g.shape().back();
          gb = matmul(a.reshape({-1, k}).transpose(0, 1), g.reshape({-1, n}));
        } else {
          gb = matmul(a.transpose(-1, -2), g);
          if (gb.shape() != b.shape()) gb = sum_to(gb, b.shape());
        }
      }
      return {ga, gb};
    });
  }
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_matmul_operands(a, b, "matmul");
  GANTRY_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul: expected operands with at least 1 dim, got shapes ",
               shape_str(a.shape()), " and ", shape_str(b.shape()));
  const int64_t ka = a.shape().back();
  const int64_t kb = b.dim() == 1 ? b.shape()[0] : b.shape()[b.dim() - 2];
  GANTRY_CHECK(ka == kb, "matmul: inner dimensions do not match: a has shape ", shape_str(a.shape()),
               " and b has shape ", shape_str(b.shape()), " (", ka, " vs ", kb, ")");
  // Vectors become 1-row / 1-column matrices through differentiable views (torch semantics).
  if (a.dim() == 1 && b.dim() == 1) return matmul_nd(a.unsqueeze(0), b.unsqueeze(1)).reshape({});
  if (a.dim() == 1) return matmul_nd(a.unsqueeze(0), b).squeeze(-2);
  if (b.dim() == 1) return matmul_nd(a, b.unsqueeze(1)).squeeze(-1);
  return matmul_nd(a, b);
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_matmul_operands(x, weight, "linear");
  GANTRY_CHECK(weight.dim() == 2, "linear: expected a weight of shape [out, in], got ", shape_str(weight.shape()));
  GANTRY_CHECK(x.dim() >= 1 && x.shape().back() == weight.shape()[1], "linear: input shape ", shape_str(x.shape()),
               " does not match weight shape ", shape_str(weight.shape()), " (expected input [..., ",
               weight.shape()[1], "])");
  const int64_t in = weight.shape()[1], out_features = weight.shape()[0];
  if (bias.defined()) {
    GANTRY_CHECK(bias.dim() == 1 && bias.shape()[0] == out_features, "linear: expected a bias of shape [",
                 out_features, "] for weight shape ", shape_str(weight.shape()), ", got ", shape_str(bias.shape()));
    GANTRY_CHECK(bias.dtype() == x.dtype() && bias.device() == x.device(), "linear: bias has dtype ",
                 dtype_name(bias.dtype()), " on ", bias.device().str(), ", expected ", dtype_name(x.dtype()), " on ",
                 x.device().str());
  }
  Shape out_shape(x.shape().begin(), x.shape().end() - 1);
  out_shape.push_back(out_features);
  Tensor out = empty(out_shape, x.dtype(), x.device());
  {
    const Tensor xd = x.detach(), wd = weight.detach();
    const int64_t rows_n = x.dim() == 1 ? 1 : shape_numel(Shape(x.shape().begin(), x.shape().end() - 1));
    Tensor c = make_view(out, {1, rows_n, out_features}, {0, out_features, 1}, 0);
    double beta = 0.0;
    if (bias.defined() && out.numel() > 0) {  // the bias rows are the GEMM's accumulator (beta = 1)
      const Tensor b = bias.detach();
      const Tensor rows_of_bias = make_view(b, {1, rows_n, out_features}, {0, 0, b.strides()[0]}, b.offset());
      copy_kernel(out.device().type, c, rows_of_bias);
      beta = 1.0;
    }
    if (out.numel() > 0 && in == 0 && beta == 0.0) fill_kernel(out.device().type, out, 0.0);
    if (out.numel() > 0 && in > 0) {
      std::optional<Tensor> x2 = x.dim() == 1 ? make_view(xd, {1, in}, {in, xd.strides()[0]}, xd.offset())
                                              : merge_leading_dims(xd, x.dim() - 1);
      if (!x2) x2 = *merge_leading_dims(xd.contiguous(), x.dim() - 1);
      const Tensor a3 = make_view(*x2, {1, rows_n, in}, {0, x2->strides()[0], x2->strides()[1]}, x2->offset());
      // W^T as a [1, in, out] view: no copy, as_gemm_operand sees the transpose.
      const Tensor b3 = make_view(wd, {1, in, out_features}, {0, wd.strides()[1], wd.strides()[0]}, wd.offset());
      run_gemm(c, a3, b3, 1.0, beta);
    }
  }
  if (needs_grad({x, weight, bias})) {
    record("linear", {x, weight, bias}, {&out},
           [sx = SavedTensor(x), sw = SavedTensor(weight)](const BackwardContext& ctx) -> TensorList {
             const Tensor& g = ctx.grad(0);
             const Tensor x = ctx.unpack(sx), w = ctx.unpack(sw);
             const int64_t in = w.shape()[1], outf = w.shape()[0];
             Tensor gx, gw, gb;
             if (ctx.needs_input_grad(0)) gx = matmul(g, w);
             if (ctx.needs_input_grad(1) || ctx.needs_input_grad(2)) {
               const Tensor g2 = g.reshape({-1, outf});
               if (ctx.needs_input_grad(1)) gw = matmul(g2.transpose(0, 1), x.reshape({-1, in}));
               if (ctx.needs_input_grad(2)) gb = sum(g2, {0});
             }
             return {gx, gw, gb};
           });
  }
  return out;
}

Tensor norm(const Tensor& x, double p, const DimList& dims, bool keepdim) {
  GANTRY_CHECK(x.defined(), "norm: undefined input");
  GANTRY_CHECK(is_floating(x.dtype()), "norm: expected a floating input, got ", dtype_name(x.dtype()));
  GANTRY_CHECK(p > 0, "norm: p must be positive (or infinity), got ", p);
  if (std::isinf(p)) return amax(abs(x), dims, keepdim);
  if (p == 1.0) return sum(abs(x), dims, keepdim);
  if (p != 2.0) return pow(sum(pow(abs(x), p), dims, keepdim), 1.0 / p);

  // p = 2 has its own rule so that the gradient at a zero norm is 0 rather than 0/0.
  Tensor out;
  {
    NoGradGuard no_grad;
    out = sqrt(sum(mul(x, x), dims, keepdim));
  }
  if (needs_grad({x})) {
    Shape kept_shape = x.shape();  // the shape of the norm with keepdim, to broadcast against x
    if (dims.empty()) {
      for (int64_t& s : kept_shape) s = 1;
    } else {
      for (int64_t d : dims) kept_shape[wrap_dim(d, x.dim(), "norm")] = 1;
    }
    record("norm", {x}, {&out},
           [sx = SavedTensor(x), sn = SavedTensor::output(out), kept_shape](const BackwardContext& ctx) -> TensorList {
             const Tensor x = ctx.unpack(sx);
             const Tensor n = ctx.unpack(sn).reshape(kept_shape);
             const Tensor g = ctx.grad(0).reshape(kept_shape);
             // Where the norm is 0 the whole slice of x is 0, so any non-zero divisor gives gradient 0.
             const Tensor safe_n = where(eq(n, 0.0), ones_like(n), n);
             return {mul(x, div(g, safe_n))};
           });
  }
  return out;
}

Tensor pairwise_sq_dist(const Tensor& a, const Tensor& b) {
  GANTRY_CHECK(a.defined() && b.defined(), "pairwise_sq_dist: undefined operand");
  GANTRY_CHECK(a.dim() == 2 && b.dim() == 2 && a.shape()[1] == b.shape()[1],
               "pairwise_sq_dist: expected a [n, d] and b [m, d], got shapes ", shape_str(a.shape()), " and ",
               shape_str(b.shape()));
  GANTRY_CHECK(is_floating(a.dtype()), "pairwise_sq_dist: expected floating operands, got ", dtype_name(a.dtype()));
  // ||a_i||^2 + ||b_j||^2 - 2 a_i.b_j; rounding can make it slightly negative, hence the clamp.
  const Tensor a_sq = sum(mul(a, a), {1}, true);               // [n, 1]
  const Tensor b_sq = sum(mul(b, b), {1}).unsqueeze(0);        // [1, m]
  const Tensor cross = matmul(a, b.transpose(0, 1));           // [n, m]
  return clamp(sub(add(a_sq, b_sq), mul(cross, 2.0)), 0.0, std::nullopt);
}

}  // namespace gantry
