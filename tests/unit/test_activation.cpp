// Activations: forward against host formulas (strided inputs, both float dtypes, extreme values),
// gradients and double backward by finite differences, derivative conventions at kinks.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/gradcheck.h"
#include "tests/support/test_util.h"
#include "tests/unit/naive_reference.h"

namespace gantry::testing {
namespace {

class ActivationTest : public DeviceTest {};
GANTRY_INSTANTIATE_DEVICE_TEST(ActivationTest);

double ref_softplus(double x, double beta, double threshold) {
  if (beta * x > threshold) return x;
  return std::log1p(std::exp(beta * x)) / beta;
}

TEST_P(ActivationTest, ForwardMatchesFormulasOnStridedInputs) {
  for (DType dt : {DType::f32, DType::f64}) {
    const double tol = dt == DType::f32 ? 2e-6 : 1e-12;
    const Tensor x = random_uniform({6, 5}, 31, -4, 4, dt, device()).t().slice(0, 0, 5, 2);  // [3, 6], strided
    ASSERT_FALSE(x.is_contiguous());
    EXPECT_TRUE(all_close(relu(x), naive_unary(x, [](double v) { return v > 0 ? v : 0.0; }), tol, tol));
    EXPECT_TRUE(all_close(leaky_relu(x, 0.2), naive_unary(x, [](double v) { return v > 0 ? v : 0.2 * v; }), tol, tol));
    EXPECT_TRUE(all_close(leaky_relu(x), naive_unary(x, [](double v) { return v > 0 ? v : 0.01 * v; }), tol, tol));
    EXPECT_TRUE(all_close(tanh(x), naive_unary(x, [](double v) { return std::tanh(v); }), tol, tol));
    EXPECT_TRUE(all_close(sigmoid(x), naive_unary(x, [](double v) { return 1 / (1 + std::exp(-v)); }), tol, tol));
    EXPECT_TRUE(all_close(softplus(x), naive_unary(x, [](double v) { return ref_softplus(v, 1, 20); }), tol, tol));
    // beta 2, threshold 3: inputs above 1.5 take the identity branch.
    EXPECT_TRUE(all_close(softplus(x, 2.0, 3.0), naive_unary(x, [](double v) { return ref_softplus(v, 2, 3); }), tol,
                          tol));
  }
}

TEST_P(ActivationTest, ExtremeInputsStayFinite) {
  for (DType dt : {DType::f32, DType::f64}) {
    const Tensor x = from_vector(std::vector<double>{-500.0, -60.0, 60.0, 500.0}, {4}).to(dt).to(device());
    const std::vector<double> sp = to_vector<double>(softplus(x, 1.0, INFINITY));
    EXPECT_GE(sp[0], 0.0);
    EXPECT_LT(sp[0], 1e-30);
    EXPECT_NEAR(sp[2], 60.0, 1e-5);
    EXPECT_NEAR(sp[3], 500.0, 1e-4);
    const std::vector<double> sg = to_vector<double>(sigmoid(x));
    EXPECT_GE(sg[0], 0.0);
    EXPECT_LT(sg[0], 1e-30);
    EXPECT_NEAR(sg[3], 1.0, 1e-7);
    const std::vector<double> th = to_vector<double>(tanh(x));
    EXPECT_EQ(th[0], -1.0);
    EXPECT_EQ(th[3], 1.0);
  }
}

TEST_P(ActivationTest, Gradients) {
  const Tensor x = random_away_from({4, 5}, 32, {0.0}, 0.02, -3, 3, DType::f64, device()).set_requires_grad();
  GradCheckOptions kinked;
  kinked.kinks = {0.0};
  EXPECT_TRUE(gradcheck([](const TensorList& t) { return relu(t[0]); }, {x}, kinked));
  EXPECT_TRUE(gradcheck([](const TensorList& t) { return leaky_relu(t[0], 0.2); }, {x}, kinked));
  EXPECT_TRUE(gradcheck([](const TensorList& t) { return tanh(t[0]); }, {x}));
  EXPECT_TRUE(gradcheck([](const TensorList& t) { return sigmoid(t[0]); }, {x}));
  EXPECT_TRUE(gradcheck([](const TensorList& t) { return softplus(t[0]); }, {x}));
  EXPECT_TRUE(gradcheck([](const TensorList& t) { return softplus(t[0], 1.5, 2.0); }, {x},
                        [] { GradCheckOptions o; o.kinks = {2.0 / 1.5}; return o; }()));
}

TEST_P(ActivationTest, DoubleBackward) {
  const Tensor x = random_away_from({3, 4}, 33, {0.0}, 0.02, -2, 2, DType::f64, device()).set_requires_grad();
  GradCheckOptions kinked;
  kinked.kinks = {0.0};
  // Piecewise-linear activations are composed with a product so their backward sits in the graph.
  EXPECT_TRUE(gradgradcheck([](const TensorList& t) { return mul(relu(t[0]), t[0]); }, {x}, kinked));
  EXPECT_TRUE(gradgradcheck([](const TensorList& t) { const Tensor y = leaky_relu(t[0], 0.2); return mul(y, y); },
                            {x}, kinked));
  EXPECT_TRUE(gradgradcheck([](const TensorList& t) { return tanh(t[0]); }, {x}));
  EXPECT_TRUE(gradgradcheck([](const TensorList& t) { return sigmoid(t[0]); }, {x}));
  EXPECT_TRUE(gradgradcheck([](const TensorList& t) { return softplus(t[0], 2.0, 20.0); }, {x}));
}

TEST_P(ActivationTest, DerivativeConventionsAtKinksAndThreshold) {
  const Tensor x = from_vector(std::vector<double>{-1.0, 0.0, 2.0, 30.0}, {4}).to(device()).set_requires_grad();
  sum(relu(x)).backward();
  EXPECT_EQ(to_vector<double>(x.grad()), (std::vector<double>{0.0, 0.0, 1.0, 1.0}));
  x.zero_grad();
  sum(leaky_relu(x, 0.1)).backward();
  EXPECT_EQ(to_vector<double>(x.grad()), (std::vector<double>{0.1, 0.1, 1.0, 1.0}));
  x.zero_grad();
  sum(softplus(x, 1.0, 20.0)).backward();  // 30 is above the threshold: slope exactly 1
  const std::vector<double> g = to_vector<double>(x.grad());
  EXPECT_NEAR(g[0], 1 / (1 + std::exp(1.0)), 1e-12);
  EXPECT_NEAR(g[1], 0.5, 1e-12);
  EXPECT_EQ(g[3], 1.0);
}

TEST_P(ActivationTest, BadInputs) {
  EXPECT_THROW(relu(arange(0, 4, 1, DType::i64, device())), Error);
  EXPECT_THROW(softplus(random_uniform({2}, 34, -1, 1, DType::f32, device()), 0.0), Error);
  try {
    sigmoid(arange(0, 3, 1, DType::i64, device()));
    FAIL() << "sigmoid of int64 did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sigmoid"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gantry::testing
