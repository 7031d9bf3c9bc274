// Elementwise ops: forward against naive host loops (broadcasting, strided views, both float
// dtypes), gradients and double-backward by finite differences, and bad-input errors.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "tests/support/gradcheck.h"
#include "tests/support/test_util.h"
#include "tests/unit/naive_reference.h"

namespace gantry::testing {
namespace {

class ElementwiseTest : public DeviceTest {};
GANTRY_INSTANTIATE_DEVICE_TEST(ElementwiseTest);

const DType kFloatTypes[] = {DType::f32, DType::f64};

double tolerance(DType t) { return t == DType::f32 ? 2e-6 : 1e-12; }

struct BinaryCase {
  std::string name;
  std::function<Tensor(const Tensor&, const Tensor&)> op;
  std::function<double(double, double)> ref;
};

std::vector<BinaryCase> binary_cases() {
  return {
      {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }, [](double a, double b) { return a + b; }},
      {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }, [](double a, double b) { return a - b; }},
      {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }, [](double a, double b) { return a * b; }},
      {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); }, [](double a, double b) { return a / b; }},
      {"pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); },
       [](double a, double b) { return std::pow(a, b); }},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); },
       [](double a, double b) { return std::max(a, b); }},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); },
       [](double a, double b) { return std::min(a, b); }},
  };
}

TEST_P(ElementwiseTest, BinaryOpsBroadcastLikeNumPy) {
  for (DType dt : kFloatTypes)
    for (const BinaryCase& c : binary_cases()) {
      // Positive operands keep pow real; [3,1,5] with [4,1] broadcasts both ways to [3,4,5].
      const Tensor a = random_uniform({3, 1, 5}, 1, 0.5, 2.0, dt, device());
      const Tensor b = random_uniform({4, 1}, 2, 0.5, 2.0, dt, device());
      const Tensor out = c.op(a, b);
      EXPECT_EQ(out.shape(), (Shape{3, 4, 5})) << c.name;
      EXPECT_EQ(out.dtype(), dt) << c.name;
      EXPECT_EQ(out.device(), device()) << c.name;
      EXPECT_TRUE(all_close(out, naive_binary(a, b, c.ref), tolerance(dt), tolerance(dt))) << c.name;
      // Scalar-shaped operands on either side.
      const Tensor s = random_uniform({}, 3, 0.5, 2.0, dt, device());
      EXPECT_TRUE(all_close(c.op(s, a), naive_binary(s, a, c.ref), tolerance(dt), tolerance(dt))) << c.name;
      EXPECT_TRUE(all_close(c.op(a, s), naive_binary(a, s, c.ref), tolerance(dt), tolerance(dt))) << c.name;
    }
}

TEST_P(ElementwiseTest, StridedViewsAreReadThroughTheirStrides) {
  for (DType dt : kFloatTypes)
    for (const BinaryCase& c : binary_cases()) {
      const Tensor base_a = random_uniform({5, 6}, 4, 0.5, 2.0, dt, device());
      const Tensor base_b = random_uniform({6, 11}, 5, 0.5, 2.0, dt, device());
      const Tensor a = base_a.t();                    // [6, 5], transposed
      const Tensor b = base_b.slice(1, 1, 11, 2);     // [6, 5], stride 2 along dim 1
      ASSERT_FALSE(a.is_contiguous());
      ASSERT_FALSE(b.is_contiguous());
      const Tensor expected = naive_binary(a.contiguous(), b.contiguous(), c.ref);
      EXPECT_TRUE(all_close(c.op(a, b), expected, tolerance(dt), tolerance(dt))) << c.name;
      // An expanded (stride 0) operand against a transposed one.
      const Tensor row = base_b.select(0, 2).slice(0, 0, 5);  // [5]
      EXPECT_TRUE(all_close(c.op(row.expand({6, 5}), a), naive_binary(row.contiguous(), a.contiguous(), c.ref),
                            tolerance(dt), tolerance(dt)))
          << c.name;
    }
}

TEST_P(ElementwiseTest, ScalarOperandsAndOperators) {
  for (DType dt : kFloatTypes) {
    const Tensor x = random_uniform({4, 3}, 6, 0.5, 2.0, dt, device()).t();
    const double tol = tolerance(dt);
    EXPECT_TRUE(all_close(add(x, 1.5), naive_unary(x, [](double v) { return v + 1.5; }), tol, tol));
    EXPECT_TRUE(all_close(sub(x, 0.25), naive_unary(x, [](double v) { return v - 0.25; }), tol, tol));
    EXPECT_TRUE(all_close(rsub(3.0, x), naive_unary(x, [](double v) { return 3.0 - v; }), tol, tol));
    EXPECT_TRUE(all_close(mul(x, -2.5), naive_unary(x, [](double v) { return v * -2.5; }), tol, tol));
    EXPECT_TRUE(all_close(div(x, 3.0), naive_unary(x, [](double v) { return v / 3.0; }), tol, tol));
    EXPECT_TRUE(all_close(rdiv(2.0, x), naive_unary(x, [](double v) { return 2.0 / v; }), tol, tol));
    EXPECT_TRUE(all_close(pow(x, 2.0), naive_unary(x, [](double v) { return v * v; }), tol, tol));
    EXPECT_TRUE(all_close(pow(x, 1.7), naive_unary(x, [](double v) { return std::pow(v, 1.7); }), tol, tol));
    EXPECT_TRUE(all_close(pow(x, -0.5), naive_unary(x, [](double v) { return 1 / std::sqrt(v); }), tol, tol));
    EXPECT_TRUE(all_close(2.0 - x * 3.0 + 1.0, naive_unary(x, [](double v) { return 2.0 - v * 3.0 + 1.0; }), tol, tol));
    EXPECT_TRUE(all_close(1.0 / x, naive_unary(x, [](double v) { return 1.0 / v; }), tol, tol));
    EXPECT_TRUE(all_close(-x, naive_unary(x, [](double v) { return -v; }), tol, tol));
    EXPECT_TRUE(all_close(x / x - x * x, naive_unary(x, [](double v) { return v / v - v * v; }), tol, tol));
  }
}

TEST_P(ElementwiseTest, MathFunctionsMatchTheStandardLibrary) {
  for (DType dt : kFloatTypes) {
    const double tol = tolerance(dt);
    const Tensor pos = random_uniform({3, 7}, 7, 0.1, 3.0, dt, device());
    const Tensor mixed = random_uniform({3, 7}, 8, -3.0, 3.0, dt, device()).slice(1, 0, 7, 2);
    EXPECT_TRUE(all_close(exp(mixed), naive_unary(mixed, [](double v) { return std::exp(v); }), tol, tol));
    EXPECT_TRUE(all_close(log(pos), naive_unary(pos, [](double v) { return std::log(v); }), tol, tol));
    EXPECT_TRUE(all_close(sqrt(pos), naive_unary(pos, [](double v) { return std::sqrt(v); }), tol, tol));
    EXPECT_TRUE(all_close(abs(mixed), naive_unary(mixed, [](double v) { return std::abs(v); }), tol, tol));
    EXPECT_TRUE(all_close(neg(mixed), naive_unary(mixed, [](double v) { return -v; }), tol, tol));
    EXPECT_TRUE(all_close(sign(mixed), naive_unary(mixed, [](double v) { return double((v > 0) - (v < 0)); }), 0, 0));
    EXPECT_TRUE(all_close(clamp(mixed, -1.0, 0.5),
                          naive_unary(mixed, [](double v) { return std::min(std::max(v, -1.0), 0.5); }), tol, tol));
    EXPECT_TRUE(all_close(clamp(mixed, -1.0, std::nullopt),
                          naive_unary(mixed, [](double v) { return std::max(v, -1.0); }), tol, tol));
    EXPECT_TRUE(all_close(clamp(mixed, std::nullopt, 0.5),
                          naive_unary(mixed, [](double v) { return std::min(v, 0.5); }), tol, tol));
  }
  // sign of exact zeros is zero.
  const Tensor z = from_vector(std::vector<double>{-2.0, 0.0, 3.0}, {3}).to(device());
  EXPECT_EQ(to_vector<double>(sign(z)), (std::vector<double>{-1.0, 0.0, 1.0}));
}

TEST_P(ElementwiseTest, ComparisonMasksAreUint8AndHandleTies) {
  // b equals a at every third element, so eq/ge/le must see exact ties.
  std::vector<double> va, vb;
  for (int i = 0; i < 12; ++i) {
    va.push_back(std::sin(1.3 * i));
    vb.push_back(i % 3 == 0 ? va.back() : std::cos(0.7 * i));
  }
  for (DType dt : kFloatTypes) {
    const Tensor a = from_vector(va, {3, 4}).to(dt).to(device());
    const Tensor b = from_vector(vb, {3, 4}).to(dt).to(device());
    const std::vector<std::pair<std::function<Tensor(const Tensor&, const Tensor&)>, std::function<bool(double, double)>>>
        cases = {
            {[](const Tensor& x, const Tensor& y) { return gt(x, y); }, [](double x, double y) { return x > y; }},
            {[](const Tensor& x, const Tensor& y) { return ge(x, y); }, [](double x, double y) { return x >= y; }},
            {[](const Tensor& x, const Tensor& y) { return lt(x, y); }, [](double x, double y) { return x < y; }},
            {[](const Tensor& x, const Tensor& y) { return le(x, y); }, [](double x, double y) { return x <= y; }},
            {[](const Tensor& x, const Tensor& y) { return eq(x, y); }, [](double x, double y) { return x == y; }},
            {[](const Tensor& x, const Tensor& y) { return ne(x, y); }, [](double x, double y) { return x != y; }},
        };
    const std::vector<double> ha = to_vector<double>(a), hb = to_vector<double>(b);
    for (size_t c = 0; c < cases.size(); ++c) {
      const Tensor m = cases[c].first(a, b);
      ASSERT_EQ(m.dtype(), DType::u8);
      EXPECT_FALSE(m.requires_grad());
      const std::vector<uint8_t> got = to_vector<uint8_t>(m);
      for (size_t i = 0; i < got.size(); ++i)
        EXPECT_EQ(got[i], cases[c].second(ha[i], hb[i]) ? 1 : 0) << "case " << c << " element " << i;
      // Scalar right-hand side, and a broadcast [4] row.
      const std::vector<uint8_t> got_s = to_vector<uint8_t>(cases[c].first(a, full({}, ha[5], dt, device())));
      for (size_t i = 0; i < got_s.size(); ++i)
        EXPECT_EQ(got_s[i], cases[c].second(ha[i], ha[5]) ? 1 : 0) << "case " << c << " scalar, element " << i;
    }
    // The double overloads agree with the tensor-scalar comparisons.
    EXPECT_EQ(to_vector<uint8_t>(gt(a, ha[5])), to_vector<uint8_t>(gt(a, full({}, ha[5], dt, device()))));
    EXPECT_EQ(to_vector<uint8_t>(le(a, ha[5])), to_vector<uint8_t>(le(a, full({}, ha[5], dt, device()))));
    EXPECT_EQ(to_vector<uint8_t>(eq(a, ha[5])), to_vector<uint8_t>(eq(a, full({}, ha[5], dt, device()))));
  }
}

TEST_P(ElementwiseTest, WhereSelectsAndBroadcasts) {
  for (DType dt : kFloatTypes) {
    const Tensor x = random_uniform({2, 3, 4}, 9, -1, 1, dt, device());
    const Tensor y = random_uniform({3, 1}, 10, -1, 1, dt, device());
    const Tensor mask = gt(random_uniform({4}, 11, -1, 1, dt, device()), 0.0);  // [4], broadcast over rows
    const Tensor out = where(mask, x, y);
    ASSERT_EQ(out.shape(), (Shape{2, 3, 4}));
    const std::vector<uint8_t> m = to_vector<uint8_t>(mask);
    const Tensor expected = naive_binary(x, y, [](double, double) { return 0.0; });  // shape only
    std::vector<double> e = to_vector<double>(expected);
    const std::vector<double> hx = to_vector<double>(x), hy = to_vector<double>(y);
    for (int64_t i = 0; i < 24; ++i) e[i] = m[i % 4] ? hx[i] : hy[(i / 4) % 3];
    EXPECT_TRUE(all_close(out, from_vector(e, {2, 3, 4}), 0, 0));
  }
}

// ---- gradients ----

TEST_P(ElementwiseTest, GradientsOfBinaryOpsWithBroadcasting) {
  for (const BinaryCase& c : binary_cases()) {
    // Operands far apart for maximum/minimum (no ties), positive for pow's log term.
    const Tensor a = random_uniform({3, 1, 4}, 12, 0.5, 1.0, DType::f64, device()).set_requires_grad();
    const Tensor b = random_uniform({2, 1}, 13, 1.5, 2.0, DType::f64, device()).set_requires_grad();
    EXPECT_TRUE(gradcheck([&](const TensorList& x) { return c.op(x[0], x[1]); }, {a, b})) << c.name;
    EXPECT_TRUE(gradcheck([&](const TensorList& x) { return c.op(x[1], x[0]); }, {a, b})) << c.name << " swapped";
  }
}

TEST_P(ElementwiseTest, GradientsOfUnaryAndScalarOps) {
  const Tensor pos = random_uniform({3, 4}, 14, 0.5, 2.0, DType::f64, device()).set_requires_grad();
  const Tensor mixed = random_away_from({3, 4}, 15, {-0.5, 0.0, 0.7}, 0.05, -2, 2, DType::f64, device())
                           .set_requires_grad();
  const std::vector<std::pair<std::string, TensorFn>> on_pos = {
      {"log", [](const TensorList& x) { return log(x[0]); }},
      {"sqrt", [](const TensorList& x) { return sqrt(x[0]); }},
      {"pow(1.7)", [](const TensorList& x) { return pow(x[0], 1.7); }},
      {"rdiv", [](const TensorList& x) { return rdiv(3.0, x[0]); }},
      {"div scalar", [](const TensorList& x) { return div(x[0], -1.5); }},
  };
  const std::vector<std::pair<std::string, TensorFn>> on_mixed = {
      {"exp", [](const TensorList& x) { return exp(x[0]); }},
      {"neg", [](const TensorList& x) { return neg(x[0]); }},
      {"abs", [](const TensorList& x) { return abs(x[0]); }},
      {"pow(2)", [](const TensorList& x) { return pow(x[0], 2.0); }},
      {"pow(3)", [](const TensorList& x) { return pow(x[0], 3.0); }},
      {"add scalar", [](const TensorList& x) { return add(x[0], 0.3); }},
      {"sub scalar", [](const TensorList& x) { return sub(x[0], 0.3); }},
      {"rsub", [](const TensorList& x) { return rsub(0.3, x[0]); }},
      {"mul scalar", [](const TensorList& x) { return mul(x[0], -1.7); }},
      {"clamp", [](const TensorList& x) { return clamp(x[0], -0.5, 0.7); }},
      {"clamp min", [](const TensorList& x) { return clamp(x[0], -0.5, std::nullopt); }},
      {"clamp max", [](const TensorList& x) { return clamp(x[0], std::nullopt, 0.7); }},
  };
  GradCheckOptions kinked;
  kinked.kinks = {-0.5, 0.0, 0.7};
  for (const auto& [name, fn] : on_pos) EXPECT_TRUE(gradcheck(fn, {pos})) << name;
  for (const auto& [name, fn] : on_mixed) EXPECT_TRUE(gradcheck(fn, {mixed}, kinked)) << name;
}

TEST_P(ElementwiseTest, ClampPassesGradientOnlyInsideTheRange) {
  const Tensor x = from_vector(std::vector<double>{-2.0, -0.2, 0.3, 1.5}, {4}).to(device()).set_requires_grad();
  sum(mul(clamp(x, -1.0, 1.0), 3.0)).backward();
  EXPECT_EQ(to_vector<double>(x.grad()), (std::vector<double>{0.0, 3.0, 3.0, 0.0}));
}

TEST_P(ElementwiseTest, MaximumSplitsTheGradientOnTies) {
  const Tensor a = from_vector(std::vector<double>{1.0, 2.0, 3.0}, {3}).to(device()).set_requires_grad();
  const Tensor b = from_vector(std::vector<double>{0.5, 2.0, 4.0}, {3}).to(device()).set_requires_grad();
  sum(maximum(a, b)).backward();
  EXPECT_EQ(to_vector<double>(a.grad()), (std::vector<double>{1.0, 0.5, 0.0}));
  EXPECT_EQ(to_vector<double>(b.grad()), (std::vector<double>{0.0, 0.5, 1.0}));
}

TEST_P(ElementwiseTest, WhereGradientsGoToTheSelectedSide) {
  const Tensor x = random_uniform({3, 4}, 16, -1, 1, DType::f64, device()).set_requires_grad();
  const Tensor y = random_uniform({4}, 17, -1, 1, DType::f64, device()).set_requires_grad();
  const Tensor mask = gt(random_uniform({3, 4}, 18, -1, 1, DType::f64, device()), 0.0);
  EXPECT_TRUE(gradcheck([&](const TensorList& t) { return where(mask, t[0], t[1]); }, {x, y}));
  EXPECT_TRUE(gradgradcheck([&](const TensorList& t) { return where(mask, mul(t[0], t[0]), mul(t[1], t[0])); }, {x, y}));
}

TEST_P(ElementwiseTest, DoubleBackwardOfTheCriticOps) {
  const Tensor a = random_uniform({3, 1, 4}, 19, 0.5, 1.5, DType::f64, device()).set_requires_grad();
  const Tensor b = random_uniform({2, 1}, 20, 0.5, 1.5, DType::f64, device()).set_requires_grad();
  const Tensor m = random_away_from({2, 4}, 21, {-0.4, 0.0, 0.6}, 0.05, -1.5, 1.5, DType::f64, device())
                       .set_requires_grad();
  GradCheckOptions kinked;
  kinked.kinks = {-0.4, 0.0, 0.6};
  // Linear ops have zero second derivative on their own, so each is composed with a product: the
  // check then runs through the op's backward rule inside the gradient graph.
  const std::vector<std::pair<std::string, TensorFn>> binary = {
      {"add", [](const TensorList& x) { const Tensor s = add(x[0], x[1]); return mul(s, s); }},
      {"sub", [](const TensorList& x) { const Tensor s = sub(x[0], x[1]); return mul(s, s); }},
      {"mul", [](const TensorList& x) { return mul(x[0], x[1]); }},
      {"div", [](const TensorList& x) { return div(x[0], x[1]); }},
      {"pow", [](const TensorList& x) { return pow(x[0], x[1]); }},
      {"scalar chain", [](const TensorList& x) { const Tensor s = rsub(2.0, add(mul(x[0], 3.0), x[1])); return mul(s, div(s, 1.5)); }},
  };
  for (const auto& [name, fn] : binary) EXPECT_TRUE(gradgradcheck(fn, {a, b})) << name;
  const std::vector<std::pair<std::string, TensorFn>> unary_pos = {
      {"sqrt", [](const TensorList& x) { return sqrt(x[0]); }},
      {"log", [](const TensorList& x) { return log(x[0]); }},
      {"pow(1.5)", [](const TensorList& x) { return pow(x[0], 1.5); }},
      {"rdiv", [](const TensorList& x) { return rdiv(2.0, x[0]); }},
  };
  for (const auto& [name, fn] : unary_pos) EXPECT_TRUE(gradgradcheck(fn, {a})) << name;
  const std::vector<std::pair<std::string, TensorFn>> unary_mixed = {
      {"exp", [](const TensorList& x) { return exp(x[0]); }},
      {"abs", [](const TensorList& x) { return mul(abs(x[0]), x[0]); }},
      {"clamp", [](const TensorList& x) { return mul(clamp(x[0], -0.4, 0.6), x[0]); }},
      {"neg", [](const TensorList& x) { const Tensor n = neg(x[0]); return mul(n, n); }},
      {"maximum", [](const TensorList& x) { const Tensor s = maximum(x[0], mul(x[0], 0.5)); return mul(s, s); }},
  };
  for (const auto& [name, fn] : unary_mixed) EXPECT_TRUE(gradgradcheck(fn, {m}, kinked)) << name;
}

// ---- bad input ----

TEST_P(ElementwiseTest, MismatchedShapesNameTheOpAndShapes) {
  const Tensor a = random_uniform({3, 4}, 22, -1, 1, DType::f32, device());
  const Tensor b = random_uniform({5}, 23, -1, 1, DType::f32, device());
  try {
    add(a, b);
    FAIL() << "add of [3, 4] and [5] did not throw";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("add"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[3, 4]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[5]"), std::string::npos) << msg;
  }
  EXPECT_THROW(mul(a, b), Error);
  EXPECT_THROW(where(gt(a, 0.0), a, b), Error);
  EXPECT_THROW(gt(a, b), Error);
}

TEST_P(ElementwiseTest, MismatchedDtypesAreRefusedNotPromoted) {
  const Tensor a = random_uniform({3}, 24, -1, 1, DType::f32, device());
  const Tensor b = random_uniform({3}, 25, -1, 1, DType::f64, device());
  try {
    mul(a, b);
    FAIL() << "mul of float32 and float64 did not throw";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("mul"), std::string::npos) << msg;
    EXPECT_NE(msg.find("float32"), std::string::npos) << msg;
    EXPECT_NE(msg.find("float64"), std::string::npos) << msg;
  }
  EXPECT_THROW(where(gt(a, 0.0), a, b), Error);
  EXPECT_THROW(where(a, a, a), Error);  // the mask must be u8
  EXPECT_THROW(exp(arange(0, 3)), Error);  // floating-only function on int64
  EXPECT_THROW(clamp(a, std::nullopt, std::nullopt), Error);
  EXPECT_THROW(add(a, Tensor()), Error);
}

TEST(ElementwiseIntegers, Int64ArithmeticAndComparisons) {
  const Tensor a = from_vector(std::vector<int64_t>{-3, 0, 5, 7}, {4});
  const Tensor b = from_vector(std::vector<int64_t>{2, 2, 2, -7}, {4});
  EXPECT_EQ(to_vector<int64_t>(add(a, b)), (std::vector<int64_t>{-1, 2, 7, 0}));
  EXPECT_EQ(to_vector<int64_t>(mul(a, b)), (std::vector<int64_t>{-6, 0, 10, -49}));
  EXPECT_EQ(to_vector<int64_t>(maximum(a, b)), (std::vector<int64_t>{2, 2, 5, 7}));
  EXPECT_EQ(to_vector<int64_t>(abs(a)), (std::vector<int64_t>{3, 0, 5, 7}));
  EXPECT_EQ(to_vector<int64_t>(pow(a, 2.0)), (std::vector<int64_t>{9, 0, 25, 49}));
  EXPECT_EQ(to_vector<uint8_t>(ge(a, b)), (std::vector<uint8_t>{0, 0, 1, 1}));
  EXPECT_EQ(to_vector<uint8_t>(eq(a, 5.0)), (std::vector<uint8_t>{0, 0, 1, 0}));
}

}  // namespace
}  // namespace gantry::testing
