// Elementwise arithmetic, math functions, clamp/maximum/minimum, where and comparison masks.
// Backward rules are written with these same ops, so they can be differentiated again.
#include <cmath>
#include <limits>

#include "engine/ops/kernel_calls.h"
#include "engine/ops/ops.h"

namespace gantry {

using autograd::BackwardContext;
using autograd::needs_grad;
using autograd::record;
using detail::run_binary;
using detail::run_compare;
using detail::run_unary;
using detail::run_where;
using detail::scalar_like;

namespace {

// Gradients of a broadcasting binary op: each is computed at the output shape (only when needed)
// and summed back to its input's shape.
template <typename GradA, typename GradB>
TensorList broadcast_grads(const BackwardContext& ctx, const Shape& shape_a, const Shape& shape_b, GradA grad_a,
                           GradB grad_b) {
  return {ctx.needs_input_grad(0) ? sum_to(grad_a(), shape_a) : Tensor(),
          ctx.needs_input_grad(1) ? sum_to(grad_b(), shape_b) : Tensor()};
}

// g where mask, else 0.
Tensor keep_where(const Tensor& mask, const Tensor& g) { return where(mask, g, scalar_like(g, 0.0)); }

Tensor unary_scalar(UnaryOp op, const Tensor& a, double alpha) {
  detail::check_defined("scalar op", a);
  return run_unary(op, a, {alpha, 0.0});
}

// Records a one-input op whose gradient is `rule(g)`.
template <typename Rule>
void record_unary(const char* name, const Tensor& x, Tensor& out, Rule rule) {
  if (!needs_grad({x})) return;
  record(name, {x}, {&out}, [rule](const BackwardContext& ctx) -> TensorList { return {rule(ctx, ctx.grad(0))}; });
}

}  // namespace

// ---- tensor-tensor arithmetic ----

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary("add", BinaryOp::add, a, b);
  if (needs_grad({a, b}))
    record("add", {a, b}, {&out}, [sa = a.shape(), sb = b.shape()](const BackwardContext& ctx) -> TensorList {
      const Tensor& g = ctx.grad(0);
      return broadcast_grads(ctx, sa, sb, [&] { return g; }, [&] { return g; });
    });
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary("sub", BinaryOp::sub, a, b);
  if (needs_grad({a, b}))
    record("sub", {a, b}, {&out}, [sa = a.shape(), sb = b.shape()](const BackwardContext& ctx) -> TensorList {
      const Tensor& g = ctx.grad(0);
      return broadcast_grads(ctx, sa, sb, [&] { return g; }, [&] { return neg(g); });
    });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary("mul", BinaryOp::mul, a, b);
  if (needs_grad({a, b}))
    record("mul", {a, b}, {&out}, [a, b](const BackwardContext& ctx) -> TensorList {
      const Tensor& g = ctx.grad(0);
      return broadcast_grads(ctx, a.shape(), b.shape(), [&] { return mul(g, b); }, [&] { return mul(g, a); });
    });
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary("div", BinaryOp::div, a, b);
  if (needs_grad({a, b}))
    record("div", {a, b}, {&out}, [a, b](const BackwardContext& ctx) -> TensorList {
      const Tensor& g = ctx.grad(0);
      return broadcast_grads(
          ctx, a.shape(), b.shape(), [&] { return div(g, b); }, [&] { return neg(div(mul(g, a), mul(b, b))); });
    });
  return out;
}

Tensor pow(const Tensor& a, const Tensor& exponent) {
  Tensor out = run_binary("pow", BinaryOp::pow, a, exponent);
  if (needs_grad({a, exponent}))
    record("pow", {a, exponent}, {&out},
           [a, e = exponent, so = SavedTensor::output(out)](const BackwardContext& ctx) -> TensorList {
             const Tensor& g = ctx.grad(0);
             return broadcast_grads(
                 ctx, a.shape(), e.shape(), [&] { return mul(g, mul(e, pow(a, sub(e, 1.0)))); },
                 [&] {
                   // d/de a^e = a^e log a; taken as 0 where a == 0 (the limit for e > 0).
                   const Tensor safe_log = where(eq(a, 0.0), scalar_like(a, 0.0), log(a));
                   return mul(g, mul(ctx.unpack(so), safe_log));
                 });
           });
  return out;
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary("maximum", BinaryOp::maximum, a, b);
  if (needs_grad({a, b}))
    record("maximum", {a, b}, {&out}, [a, b](const BackwardContext& ctx) -> TensorList {
      // Ties split the gradient evenly.
      const Tensor& g = ctx.grad(0);
      const Tensor a_wins = gt(a, b), tie = eq(a, b), zero = scalar_like(g, 0.0);
      return broadcast_grads(
          ctx, a.shape(), b.shape(), [&] { return where(a_wins, g, where(tie, mul(g, 0.5), zero)); },
          [&] { return where(a_wins, zero, where(tie, mul(g, 0.5), g)); });
    });
  return out;
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary("minimum", BinaryOp::minimum, a, b);
  if (needs_grad({a, b}))
    record("minimum", {a, b}, {&out}, [a, b](const BackwardContext& ctx) -> TensorList {
      const Tensor& g = ctx.grad(0);
      const Tensor a_wins = lt(a, b), tie = eq(a, b), zero = scalar_like(g, 0.0);
      return broadcast_grads(
          ctx, a.shape(), b.shape(), [&] { return where(a_wins, g, where(tie, mul(g, 0.5), zero)); },
          [&] { return where(a_wins, zero, where(tie, mul(g, 0.5), g)); });
    });
  return out;
}

Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b) {
  Tensor out = run_where("where", mask, a, b);
  if (needs_grad({a, b}))
    record("where", {a, b}, {&out}, [mask, sa = a.shape(), sb = b.shape()](const BackwardContext& ctx) -> TensorList {
      const Tensor& g = ctx.grad(0);
      const Tensor zero = scalar_like(g, 0.0);
      return broadcast_grads(ctx, sa, sb, [&] { return where(mask, g, zero); }, [&] { return where(mask, zero, g); });
    });
  return out;
}

// ---- tensor-scalar arithmetic ----

Tensor add(const Tensor& a, double b) {
  Tensor out = unary_scalar(UnaryOp::add_scalar, a, b);
  record_unary("add_scalar", a, out, [](const BackwardContext&, const Tensor& g) { return g; });
  return out;
}

Tensor sub(const Tensor& a, double b) {
  Tensor out = unary_scalar(UnaryOp::add_scalar, a, -b);
  record_unary("sub_scalar", a, out, [](const BackwardContext&, const Tensor& g) { return g; });
  return out;
}

Tensor rsub(double a, const Tensor& b) {
  Tensor out = unary_scalar(UnaryOp::rsub_scalar, b, a);
  record_unary("rsub_scalar", b, out, [](const BackwardContext&, const Tensor& g) { return neg(g); });
  return out;
}

Tensor mul(const Tensor& a, double b) {
  Tensor out = unary_scalar(UnaryOp::mul_scalar, a, b);
  record_unary("mul_scalar", a, out, [b](const BackwardContext&, const Tensor& g) { return mul(g, b); });
  return out;
}

Tensor div(const Tensor& a, double b) {
  detail::check_defined("div", a);
  // A true division (not a multiplication by 1/b), so results match a / b exactly.
  Tensor out = run_binary("div", BinaryOp::div, a, scalar_like(a, b));
  record_unary("div_scalar", a, out, [b](const BackwardContext&, const Tensor& g) { return div(g, b); });
  return out;
}

Tensor rdiv(double a, const Tensor& b) {
  detail::check_floating("rdiv", b);
  Tensor out = unary_scalar(UnaryOp::rdiv_scalar, b, a);
  record_unary("rdiv_scalar", b, out,
               [a, b](const BackwardContext&, const Tensor& g) { return mul(div(g, mul(b, b)), -a); });
  return out;
}

Tensor neg(const Tensor& a) {
  detail::check_defined("neg", a);
  Tensor out = run_unary(UnaryOp::neg, a);
  record_unary("neg", a, out, [](const BackwardContext&, const Tensor& g) { return neg(g); });
  return out;
}

// ---- math functions ----

Tensor pow(const Tensor& a, double exponent) {
  detail::check_defined("pow", a);
  Tensor out = run_unary(UnaryOp::pow_scalar, a, {exponent, 0.0});
  record_unary("pow_scalar", a, out, [a, exponent](const BackwardContext&, const Tensor& g) {
    if (exponent == 0.0) return mul(g, 0.0);
    return mul(g, mul(pow(a, exponent - 1.0), exponent));
  });
  return out;
}

Tensor exp(const Tensor& a) {
  detail::check_floating("exp", a);
  Tensor out = run_unary(UnaryOp::exp, a);
  record_unary("exp", a, out, [so = SavedTensor::output(out)](const BackwardContext& ctx, const Tensor& g) {
    return mul(g, ctx.unpack(so));
  });
  return out;
}

Tensor log(const Tensor& a) {
  detail::check_floating("log", a);
  Tensor out = run_unary(UnaryOp::log, a);
  record_unary("log", a, out, [a](const BackwardContext&, const Tensor& g) { return div(g, a); });
  return out;
}

Tensor sqrt(const Tensor& a) {
  detail::check_floating("sqrt", a);
  Tensor out = run_unary(UnaryOp::sqrt, a);
  record_unary("sqrt", a, out, [so = SavedTensor::output(out)](const BackwardContext& ctx, const Tensor& g) {
    return div(g, mul(ctx.unpack(so), 2.0));
  });
  return out;
}

Tensor abs(const Tensor& a) {
  detail::check_defined("abs", a);
  Tensor out = run_unary(UnaryOp::abs, a);
  record_unary("abs", a, out, [a](const BackwardContext&, const Tensor& g) { return mul(g, sign(a)); });
  return out;
}

Tensor sign(const Tensor& a) {
  detail::check_defined("sign", a);
  Tensor out = run_unary(UnaryOp::sign, a);
  // Piecewise constant: the gradient is zero everywhere it exists.
  record_unary("sign", a, out, [](const BackwardContext&, const Tensor& g) { return mul(g, 0.0); });
  return out;
}

Tensor clamp(const Tensor& a, std::optional<double> min, std::optional<double> max) {
  detail::check_defined("clamp", a);
  GANTRY_CHECK(min || max, "clamp: at least one of min and max must be given (input shape ", shape_str(a.shape()),
               ")");
  constexpr double inf = std::numeric_limits<double>::infinity();
  Tensor out = run_unary(UnaryOp::clamp, a, {min.value_or(-inf), max.value_or(inf)});
  record_unary("clamp", a, out, [a, min, max](const BackwardContext&, const Tensor& g) {
    // The gradient passes where min <= a <= max (boundaries included, as in torch.clamp).
    Tensor inside;
    if (min) inside = ge(a, *min);
    if (max) inside = inside.defined() ? run_binary("clamp", BinaryOp::mul, inside, le(a, *max)) : le(a, *max);
    return keep_where(inside, g);
  });
  return out;
}

// ---- comparison masks ----

#define GANTRY_DEFINE_COMPARISON(name)                                                                  \
  Tensor name(const Tensor& a, const Tensor& b) { return run_compare(#name, CompareOp::name, a, b); }     \
  Tensor name(const Tensor& a, double b) {                                                               \
    detail::check_defined(#name, a);                                                                     \
    return run_compare(#name, CompareOp::name, a, scalar_like(a, b));                                    \
  }
GANTRY_DEFINE_COMPARISON(gt)
GANTRY_DEFINE_COMPARISON(ge)
GANTRY_DEFINE_COMPARISON(lt)
GANTRY_DEFINE_COMPARISON(le)
GANTRY_DEFINE_COMPARISON(eq)
GANTRY_DEFINE_COMPARISON(ne)
#undef GANTRY_DEFINE_COMPARISON

}  // namespace gantry
