// Losses: values against host formulas (including extreme logits), reductions, gradients and double
// backward (the critic losses sit inside WGAN-GP/R1 penalties), and bad-input errors.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "tests/support/gradcheck.h"
#include "tests/support/test_util.h"

namespace gantry::testing {
namespace {

class LossTest : public DeviceTest {};
GANTRY_INSTANTIATE_DEVICE_TEST(LossTest);

double log_sigmoid(double x) { return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x)); }
double mean_of(const std::vector<double>& v, const std::function<double(double)>& f) {
  double s = 0;
  for (double x : v) s += f(x);
  return s / static_cast<double>(v.size());
}

TEST_P(LossTest, BceWithLogitsMatchesTheDefinition) {
  for (DType dt : {DType::f32, DType::f64}) {
    const double tol = dt == DType::f32 ? 1e-5 : 1e-12;
    const Tensor logits = random_uniform({4, 3}, 51, -4, 4, dt, device());
    const Tensor target = random_uniform({4, 3}, 52, 0, 1, dt, device());
    const std::vector<double> x = to_vector<double>(logits), t = to_vector<double>(target);
    std::vector<double> per(x.size());
    for (size_t i = 0; i < x.size(); ++i) per[i] = -(t[i] * log_sigmoid(x[i]) + (1 - t[i]) * log_sigmoid(-x[i]));
    const double total = std::accumulate(per.begin(), per.end(), 0.0);
    EXPECT_TRUE(all_close(bce_with_logits(logits, target, Reduction::none), from_vector(per, {4, 3}), tol, tol));
    EXPECT_NEAR(bce_with_logits(logits, target, Reduction::sum).item<double>(), total, tol * 12);
    EXPECT_NEAR(bce_with_logits(logits, target).item<double>(), total / 12, tol);
  }
}

TEST_P(LossTest, BceWithLogitsIsStableForExtremeLogits) {
  for (DType dt : {DType::f32, DType::f64}) {
    const Tensor logits = from_vector(std::vector<double>{-200.0, -30.0, 30.0, 200.0}, {4}).to(dt).to(device());
    const Tensor target = from_vector(std::vector<double>{0.0, 1.0, 0.0, 1.0}, {4}).to(dt).to(device());
    const std::vector<double> l = to_vector<double>(bce_with_logits(logits, target, Reduction::none));
    EXPECT_NEAR(l[0], 0.0, 1e-30);
    EXPECT_NEAR(l[1], 30.0, 1e-5);
    EXPECT_NEAR(l[2], 30.0, 1e-5);
    EXPECT_NEAR(l[3], 0.0, 1e-30);
  }
}

TEST_P(LossTest, MseMatchesTheDefinition) {
  const Tensor x = random_uniform({5, 2}, 53, -2, 2, DType::f64, device());
  const Tensor y = random_uniform({5, 2}, 54, -2, 2, DType::f64, device());
  const std::vector<double> hx = to_vector<double>(x), hy = to_vector<double>(y);
  std::vector<double> sq(hx.size());
  for (size_t i = 0; i < hx.size(); ++i) sq[i] = (hx[i] - hy[i]) * (hx[i] - hy[i]);
  EXPECT_TRUE(all_close(mse_loss(x, y, Reduction::none), from_vector(sq, {5, 2}), 1e-12, 1e-12));
  EXPECT_NEAR(mse_loss(x, y).item<double>(), std::accumulate(sq.begin(), sq.end(), 0.0) / 10, 1e-12);
  EXPECT_NEAR(mse_loss(x, y, Reduction::sum).item<double>(), std::accumulate(sq.begin(), sq.end(), 0.0), 1e-12);
}

TEST_P(LossTest, GanLossesFollowTheRealnessConvention) {
  // Different batch sizes for real and fake: each term is its own mean.
  const Tensor real = random_uniform({6, 1}, 55, -3, 3, DType::f64, device());
  const Tensor fake = random_uniform({4, 1}, 56, -3, 3, DType::f64, device());
  const std::vector<double> r = to_vector<double>(real), f = to_vector<double>(fake);
  auto softplus = [](double v) { return -log_sigmoid(-v); };
  auto relu = [](double v) { return v > 0 ? v : 0.0; };
  EXPECT_NEAR(ns_d_loss(real, fake).item<double>(),
              mean_of(r, [&](double v) { return softplus(-v); }) + mean_of(f, softplus), 1e-12);
  EXPECT_NEAR(ns_g_loss(fake).item<double>(), mean_of(f, [&](double v) { return softplus(-v); }), 1e-12);
  EXPECT_NEAR(hinge_d_loss(real, fake).item<double>(),
              mean_of(r, [&](double v) { return relu(1 - v); }) + mean_of(f, [&](double v) { return relu(1 + v); }),
              1e-12);
  EXPECT_NEAR(hinge_g_loss(fake).item<double>(), -mean_of(f, [](double v) { return v; }), 1e-12);
  EXPECT_NEAR(wasserstein_d_loss(real, fake).item<double>(),
              mean_of(f, [](double v) { return v; }) - mean_of(r, [](double v) { return v; }), 1e-12);
  EXPECT_NEAR(wasserstein_g_loss(fake).item<double>(), -mean_of(f, [](double v) { return v; }), 1e-12);
  // A critic that scores real higher has the lower loss.
  const Tensor hi = full({4, 1}, 3.0, DType::f64, device()), lo = full({4, 1}, -3.0, DType::f64, device());
  EXPECT_LT(ns_d_loss(hi, lo).item<double>(), ns_d_loss(lo, hi).item<double>());
  EXPECT_LT(hinge_d_loss(hi, lo).item<double>(), hinge_d_loss(lo, hi).item<double>());
  EXPECT_LT(wasserstein_d_loss(hi, lo).item<double>(), wasserstein_d_loss(lo, hi).item<double>());
  EXPECT_LT(ns_g_loss(hi).item<double>(), ns_g_loss(lo).item<double>());
}

TEST_P(LossTest, GradientsAndDoubleBackward) {
  const Tensor logits = random_uniform({3, 2}, 57, -3, 3, DType::f64, device()).set_requires_grad();
  const Tensor target = random_uniform({3, 2}, 58, 0, 1, DType::f64, device()).set_requires_grad();
  // Hinge kinks: real scores at 1, fake scores at -1.
  const Tensor real = random_away_from({5, 1}, 59, {1.0}, 0.05, -2, 3, DType::f64, device()).set_requires_grad();
  const Tensor fake = random_away_from({4, 1}, 60, {-1.0}, 0.05, -3, 2, DType::f64, device()).set_requires_grad();
  GradCheckOptions hinge;
  hinge.kinks = {1.0, -1.0};
  const std::vector<std::pair<std::string, TensorFn>> pair_losses = {
      {"bce", [](const TensorList& t) { return bce_with_logits(t[0], t[1]); }},
      {"bce none", [](const TensorList& t) { return bce_with_logits(t[0], t[1], Reduction::none); }},
      {"mse", [](const TensorList& t) { return mse_loss(t[0], t[1], Reduction::sum); }},
  };
  for (const auto& [name, fn] : pair_losses) {
    EXPECT_TRUE(gradcheck(fn, {logits, target})) << name;
    EXPECT_TRUE(gradgradcheck(fn, {logits, target})) << name;
  }
  const std::vector<std::pair<std::string, TensorFn>> d_losses = {
      {"ns_d", [](const TensorList& t) { return ns_d_loss(t[0], t[1]); }},
      {"hinge_d", [](const TensorList& t) { return hinge_d_loss(t[0], t[1]); }},
      {"wasserstein_d", [](const TensorList& t) { return wasserstein_d_loss(t[0], t[1]); }},
      // Losses of a nonlinear critic output, so the second derivative is not identically zero.
      {"hinge_d of squares",
       [](const TensorList& t) { return hinge_d_loss(mul(t[0], t[0]), mul(t[1], t[1])); }},
      {"wasserstein_d of cubes",
       [](const TensorList& t) { return wasserstein_d_loss(pow(t[0], 3.0), pow(t[1], 3.0)); }},
  };
  for (const auto& [name, fn] : d_losses) EXPECT_TRUE(gradcheck(fn, {real, fake}, hinge)) << name;
  GradCheckOptions squared_hinge;  // kinks of relu(1 - r^2) and relu(1 + f^2): |r| = 1
  squared_hinge.kinks = {1.0, -1.0};
  EXPECT_TRUE(gradgradcheck(d_losses[0].second, {real, fake})) << "ns_d";
  EXPECT_TRUE(gradgradcheck(d_losses[3].second, {real, fake}, squared_hinge)) << "hinge_d of squares";
  EXPECT_TRUE(gradgradcheck(d_losses[4].second, {real, fake})) << "wasserstein_d of cubes";
  EXPECT_TRUE(gradcheck([](const TensorList& t) { return ns_g_loss(t[0]); }, {fake}));
  EXPECT_TRUE(gradgradcheck([](const TensorList& t) { return ns_g_loss(t[0]); }, {fake}));
  EXPECT_TRUE(gradcheck([](const TensorList& t) { return hinge_g_loss(t[0]); }, {fake}));
  EXPECT_TRUE(gradgradcheck([](const TensorList& t) { return hinge_g_loss(mul(t[0], t[0])); }, {fake}));
  EXPECT_TRUE(gradcheck([](const TensorList& t) { return wasserstein_g_loss(t[0]); }, {fake}));
  EXPECT_TRUE(gradgradcheck([](const TensorList& t) { return wasserstein_g_loss(exp(t[0])); }, {fake}));
}

TEST_P(LossTest, BadInputs) {
  const Tensor a = random_uniform({4, 1}, 61, -1, 1, DType::f32, device());
  const Tensor b = random_uniform({4}, 62, 0, 1, DType::f32, device());
  try {
    bce_with_logits(a, b);
    FAIL() << "bce_with_logits with shapes [4, 1] and [4] did not throw";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bce_with_logits"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[4, 1]"), std::string::npos) << msg;
  }
  EXPECT_THROW(mse_loss(a, b), Error);
  EXPECT_THROW(mse_loss(a, a.to(DType::f64)), Error);
  EXPECT_THROW(ns_d_loss(a, a.to(DType::f64)), Error);
  EXPECT_THROW(ns_g_loss(zeros({0, 1}, DType::f32, device())), Error);
  EXPECT_THROW(hinge_g_loss(arange(0, 3, 1, DType::i64, device())), Error);
}

}  // namespace
}  // namespace gantry::testing
