// The autograd engine through real ops: accumulation, graph freeing, grad mode, higher-order
// gradients, detach, and gradients through views.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tests/support/error_matchers.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_util.h"

namespace gantry::testing {
namespace {

class AutogradTest : public DeviceTest {};
GANTRY_INSTANTIATE_DEVICE_TEST(AutogradTest);

Tensor leaf(const std::vector<double>& v, const Shape& shape, Device device) {
  return from_vector(v, shape).to(device).set_requires_grad();
}

TEST_P(AutogradTest, GradientsAccumulateIntoLeavesAcrossBackwardCalls) {
  const Tensor x = leaf({1.0, -2.0, 3.0}, {3}, device());
  sum(mul(x, x)).backward();  // 2x
  EXPECT_EQ(to_vector<double>(x.grad()), (std::vector<double>{2.0, -4.0, 6.0}));
  sum(mul(x, 3.0)).backward();  // + 3
  EXPECT_EQ(to_vector<double>(x.grad()), (std::vector<double>{5.0, -1.0, 9.0}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST_P(AutogradTest, NonScalarOutputNeedsGradOutputs) {
  const Tensor x = leaf({1.0, 2.0}, {2}, device());
  const Tensor y = mul(x, x);
  try {
    y.backward();
    FAIL() << "backward of a [2] output without grad_outputs did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("grad_outputs"), std::string::npos) << e.what();
  }
  y.backward(from_vector(std::vector<double>{1.0, 10.0}, {2}).to(device()));
  EXPECT_EQ(to_vector<double>(x.grad()), (std::vector<double>{2.0, 40.0}));
}

TEST_P(AutogradTest, SecondBackwardThroughAFreedGraphThrows) {
  const Tensor x = leaf({1.5, -0.5}, {2}, device());
  const Tensor loss = sum(exp(x));
  loss.backward();
  try {
    loss.backward();
    FAIL() << "a second backward through a freed graph did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("retain_graph"), std::string::npos) << e.what();
  }
}

TEST_P(AutogradTest, RetainGraphAllowsASecondBackward) {
  const Tensor x = leaf({1.5, -0.5}, {2}, device());
  const Tensor loss = sum(exp(x));
  loss.backward(Tensor(), /*retain_graph=*/true);
  loss.backward();
  const std::vector<double> g = to_vector<double>(x.grad());
  EXPECT_NEAR(g[0], 2 * std::exp(1.5), 1e-12);
  EXPECT_NEAR(g[1], 2 * std::exp(-0.5), 1e-12);
}

TEST_P(AutogradTest, NoGradGuardRecordsNothing) {
  const Tensor x = leaf({1.0, 2.0}, {2}, device());
  Tensor y;
  {
    NoGradGuard guard;
    y = sum(tanh(mul(x, 2.0)));
  }
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
  EXPECT_THROW(y.backward(), Error);
  // Recording resumes after the guard.
  EXPECT_TRUE(sum(tanh(x)).requires_grad());
}

TEST_P(AutogradTest, CreateGraphGivesSecondDerivatives) {
  const Tensor x = leaf({0.5, -1.5, 2.0}, {3}, device());
  const Tensor y = sum(pow(x, 3.0));
  const Tensor dy = autograd::grad({y}, {x}, {}, /*create_graph=*/true)[0];
  EXPECT_TRUE(all_close(dy, from_vector(std::vector<double>{0.75, 6.75, 12.0}, {3}), 1e-12, 1e-12));  // 3x^2
  ASSERT_TRUE(dy.requires_grad());
  const Tensor d2y = autograd::grad({sum(dy)}, {x})[0];
  EXPECT_TRUE(all_close(d2y, from_vector(std::vector<double>{3.0, -9.0, 12.0}, {3}), 1e-12, 1e-12));  // 6x
  // grad() leaves .grad alone.
  EXPECT_FALSE(x.grad().defined());
}

TEST_P(AutogradTest, GradientPenaltyStyleDoubleBackward) {
  // d/dw of ||d(sum(tanh(x w)))/dx||^2, the shape of a WGAN-GP penalty, against finite differences.
  const Tensor x = random_uniform({3, 1}, 71, -1, 1, DType::f64, device()).set_requires_grad();
  const Tensor w = random_uniform({1, 4}, 72, -1, 1, DType::f64, device()).set_requires_grad();
  EXPECT_TRUE(gradcheck(
      [](const TensorList& t) {
        const Tensor out = sum(tanh(mul(t[0], t[1])));
        const Tensor g = autograd::grad({out}, {t[0]}, {}, true)[0];
        return sum(mul(g, g));
      },
      {x, w}));
}

// The checker itself: x + (x m - detach(x m)) has the value x but the gradient 1 + m, so with a mask m
// that is 1 at one element the analytic gradient is wrong there alone. Every device must catch it at
// the first and at the last element (on the emulated CUDA device, which checks a spread subset, too).
TEST_P(AutogradTest, GradcheckCatchesAGradientWrongAtOneElement) {
  const int64_t n = 1000;
  for (const int64_t wrong : {int64_t{0}, n - 1}) {
    std::vector<double> m(static_cast<size_t>(n), 0.0);
    m[static_cast<size_t>(wrong)] = 1.0;
    const Tensor mask = from_vector(m, {n}).to(device());
    const auto fn = [&](const TensorList& t) {
      const Tensor xm = mul(t[0], mask);
      return add(t[0], sub(xm, xm.detach()));
    };
    const Tensor x = random_uniform({n}, 75, -1, 1, DType::f64, device()).set_requires_grad();
    const ::testing::AssertionResult r = gradcheck(fn, {x});
    EXPECT_FALSE(r) << "element " << wrong;
    EXPECT_NE(std::string(r.message()).find("element " + std::to_string(wrong) + ":"), std::string::npos)
        << r.message();
  }
}

// x^3 with a backward rule that is "a fused kernel": it computes 3 x^2 g without recording, the way a
// hand-written backward kernel would.
Tensor cube_once_differentiable(const Tensor& x) {
  Tensor out;
  {
    NoGradGuard no_grad;
    out = pow(x, 3.0);
  }
  if (autograd::needs_grad({x}))
    autograd::record_once_differentiable("fused_cube", {x}, {&out},
                                         [sx = SavedTensor(x)](const autograd::BackwardContext& ctx) -> TensorList {
                                           const Tensor x = ctx.unpack(sx);
                                           return {mul(mul(mul(x, x), 3.0), ctx.grad(0))};
                                         });
  return out;
}

TEST_P(AutogradTest, OnceDifferentiableOpsRefuseDoubleBackwardWithAClearError) {
  const Tensor x = leaf({0.5, -1.5, 2.0}, {3}, device());
  // First order works, with and without create_graph.
  const Tensor dx = autograd::grad({sum(cube_once_differentiable(x))}, {x})[0];
  EXPECT_TRUE(all_close(dx, from_vector(std::vector<double>{0.75, 6.75, 12.0}, {3}).to(device()), 1e-12, 1e-12));
  EXPECT_TRUE(gradcheck([](const TensorList& t) { return cube_once_differentiable(t[0]); },
                        {random_uniform({4}, 74, -1, 1, DType::f64, device()).set_requires_grad()}));
  const Tensor dx_graph = autograd::grad({sum(cube_once_differentiable(x))}, {x}, {}, /*create_graph=*/true)[0];
  EXPECT_TRUE(all_close(dx_graph.detach(), dx, 1e-12, 1e-12));
  // Differentiating the gradient again names the op instead of returning zeros.
  ASSERT_TRUE(dx_graph.requires_grad());
  EXPECT_TRUE(throws_error_mentioning([&] { autograd::grad({sum(dx_graph)}, {x}); },
                                      {"fused_cube", "does not support double backward"}));
  // A WGAN-GP-style penalty through it fails the same way.
  const Tensor w = leaf({0.3, -0.7, 1.1}, {3}, device());
  const Tensor gx = autograd::grad({sum(cube_once_differentiable(mul(x, w)))}, {x}, {}, true)[0];
  EXPECT_TRUE(throws_error_mentioning([&] { sum(mul(gx, gx)).backward(); }, {"fused_cube", "double backward"}));
}

TEST_P(AutogradTest, DetachStopsGradients) {
  const Tensor x = leaf({1.0, 2.0, 3.0}, {3}, device());
  const Tensor d = mul(x, 2.0).detach();
  EXPECT_FALSE(d.requires_grad());
  sum(add(mul(d, x), x)).backward();  // d/dx = d + 1, with no path through d
  EXPECT_EQ(to_vector<double>(x.grad()), (std::vector<double>{3.0, 5.0, 7.0}));
}

TEST_P(AutogradTest, ViewsPropagateGradients) {
  const Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3}, device());
  // slice: only the selected columns receive gradient.
  sum(mul(x.slice(1, 0, 3, 2), 10.0)).backward();
  EXPECT_EQ(to_vector<double>(x.grad()), (std::vector<double>{10, 0, 10, 10, 0, 10}));
  x.zero_grad();
  // expand: the broadcast copies sum back.
  const Tensor row = leaf({1.0, 2.0, 3.0}, {1, 3}, device());
  sum(mul(row.expand({4, 3}), arange(0, 12, 1, DType::f64, device()).reshape({4, 3}))).backward();
  EXPECT_EQ(to_vector<double>(row.grad()), (std::vector<double>{18, 22, 26}));
  // permute: gradients land at the original positions.
  const Tensor weights = arange(0, 6, 1, DType::f64, device()).reshape({3, 2});
  sum(mul(x.permute({1, 0}), weights)).backward();  // x^T[j, i] * weights[j, i]
  EXPECT_EQ(to_vector<double>(x.grad()), (std::vector<double>{0, 2, 4, 1, 3, 5}));
  // gradients through views match finite differences.
  EXPECT_TRUE(gradcheck([](const TensorList& t) { return mul(t[0].t().slice(0, 1, 3), t[0].t().select(0, 0)); },
                        {random_uniform({2, 3}, 73, -1, 1, DType::f64, device()).set_requires_grad()}));
}

}  // namespace
}  // namespace gantry::testing
