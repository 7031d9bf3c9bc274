// The image layers against PyTorch (tests/golden/make_layers_golden.py): single ops in float64, where
// index and divisor rules must agree to rounding, and a small DCGAN-style generator and LayerNorm
// critic in float32: outputs, gradients, BatchNorm running statistics and the weight gradients of a
// WGAN-GP gradient penalty (double backward through every layer).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "engine/nn/activations.h"
#include "engine/nn/conv.h"
#include "engine/nn/norm.h"
#include "engine/nn/pooling.h"
#include "engine/nn/sequential.h"
#include "engine/ops/nn_ops.h"
#include "engine/ops/ops.h"
#include "tests/support/golden_file.h"

namespace gantry {
namespace {

class GoldenLayers : public ::testing::Test {
 protected:
  void SetUp() override { golden_ = testing::GoldenFile("layers_golden.safetensors"); }

  const Tensor& g(const std::string& name) const { return golden_.tensor(name); }

  testing::GoldenFile golden_;
};

TEST_F(GoldenLayers, SingleOpsMatchTorchInFloat64) {
  using Op = std::function<Tensor(const std::string&)>;
  const auto in = [&](const std::string& op, const char* what) { return g("op." + op + "." + what); };
  const std::vector<std::pair<std::string, Op>> ops = {
      {"conv2d_s2_p1", [&](const std::string& o) { return conv2d(in(o, "x"), in(o, "w"), in(o, "b"), {2, 2}, {1, 1}); }},
      {"conv2d_1x7", [&](const std::string& o) { return conv2d(in(o, "x"), in(o, "w"), Tensor(), {1, 1}, {0, 3}); }},
      {"conv2d_dil2",
       [&](const std::string& o) { return conv2d(in(o, "x"), in(o, "w"), Tensor(), {1, 2}, {2, 1}, {2, 1}); }},
      {"conv_transpose2d_k4s2p1",
       [&](const std::string& o) { return conv_transpose2d(in(o, "x"), in(o, "w"), in(o, "b"), {2, 2}, {1, 1}); }},
      {"conv_transpose2d_outpad",
       [&](const std::string& o) { return conv_transpose2d(in(o, "x"), in(o, "w"), Tensor(), {2, 2}, {1, 1}, {1, 1}); }},
      {"avg_pool2d_k3s2p1_incl", [&](const std::string& o) { return avg_pool2d(in(o, "x"), {3, 3}, Size2{2, 2}, {1, 1}, true); }},
      {"avg_pool2d_k3s2p1_excl", [&](const std::string& o) { return avg_pool2d(in(o, "x"), {3, 3}, Size2{2, 2}, {1, 1}, false); }},
      {"avg_pool2d_k3s1p1_incl", [&](const std::string& o) { return avg_pool2d(in(o, "x"), {3, 3}, Size2{1, 1}, {1, 1}); }},
      {"max_pool2d_k3s2p1", [&](const std::string& o) { return max_pool2d(in(o, "x"), {3, 3}, Size2{2, 2}, {1, 1}); }},
      {"adaptive_avg_pool2d_4x3", [&](const std::string& o) { return adaptive_avg_pool2d(in(o, "x"), {4, 3}); }},
      {"adaptive_avg_pool2d_1x1", [&](const std::string& o) { return adaptive_avg_pool2d(in(o, "x"), {1, 1}); }},
      {"nearest_7x13", [&](const std::string& o) { return interpolate_nearest(in(o, "x"), Size2{7, 13}); }},
      {"nearest_x2", [&](const std::string& o) { return interpolate_nearest(in(o, "x"), 2.0); }},
      {"bilinear_23x31", [&](const std::string& o) { return interpolate_bilinear(in(o, "x"), Size2{23, 31}); }},
      {"bilinear_5x3", [&](const std::string& o) { return interpolate_bilinear(in(o, "x"), Size2{5, 3}); }},
      {"bilinear_x2", [&](const std::string& o) { return interpolate_bilinear(in(o, "x"), 2.0); }},
      {"bilinear_align_11x6", [&](const std::string& o) { return interpolate_bilinear(in(o, "x"), Size2{11, 6}, true); }},
      {"layer_norm", [&](const std::string& o) { return layer_norm(in(o, "x"), {9, 8}, in(o, "w"), in(o, "b")); }},
  };
  for (const auto& [name, op] : ops) EXPECT_TRUE(golden_.matches(op(name), "op." + name + ".out", 1e-12));

  const auto [values, indices] = max_pool2d_with_indices(in("max_pool2d_k3s2p1", "x"), {3, 3}, Size2{2, 2}, {1, 1});
  EXPECT_EQ(to_vector<int64_t>(indices), to_vector<int64_t>(g("op.max_pool2d_k3s2p1_indices.out")));

  const std::string bn = "batch_norm_train";
  Tensor rm = in(bn, "running_mean").clone(), rv = in(bn, "running_var").clone();
  EXPECT_TRUE(golden_.matches(batch_norm(in(bn, "x"), rm, rv, in(bn, "w"), in(bn, "b"), true, 0.2, 1e-4),
                              "op." + bn + ".out", 1e-12));
  EXPECT_TRUE(golden_.matches(rm, "op." + bn + "_running_mean.out", 1e-12));
  EXPECT_TRUE(golden_.matches(rv, "op." + bn + "_running_var.out", 1e-12));
}

TEST_F(GoldenLayers, BilinearResizeTo299MatchesTorchInFloat32) {
  EXPECT_TRUE(golden_.matches(interpolate_bilinear(g("op.bilinear_f32_299.x"), Size2{299, 299}),
                              "op.bilinear_f32_299.out", 1e-6));
}

class GoldenDcgan : public GoldenLayers {
 protected:
  void SetUp() override {
    GoldenLayers::SetUp();
    slope_ = golden_.meta_double("leaky_relu_slope");
    Generator gen(0);  // any init: the golden weights are loaded over it
    generator_ = std::make_shared<nn::Sequential>();
    generator_->push_back(std::make_shared<nn::ConvTranspose2d>(8, 6, Size2{4, 4}, gen,
                                                                nn::ConvTranspose2dOptions{.stride = {2, 2}, .padding = {1, 1}, .bias = false}))
        .push_back(std::make_shared<nn::BatchNorm2d>(6))
        .push_back(std::make_shared<nn::ReLU>())
        .push_back(std::make_shared<nn::ConvTranspose2d>(6, 3, Size2{4, 4}, gen,
                                                         nn::ConvTranspose2dOptions{.stride = {2, 2}, .padding = {1, 1}}))
        .push_back(std::make_shared<nn::Tanh>());
    critic_ = std::make_shared<nn::Sequential>();
    critic_->push_back(std::make_shared<nn::Conv2d>(3, 4, Size2{4, 4}, gen, nn::Conv2dOptions{.stride = {2, 2}, .padding = {1, 1}}))
        .push_back(std::make_shared<nn::LayerNorm>(Shape{4, 4, 4}))
        .push_back(std::make_shared<nn::LeakyReLU>(slope_))
        .push_back(std::make_shared<nn::AvgPool2d>(Size2{2, 2}))
        .push_back(std::make_shared<nn::Conv2d>(4, 1, Size2{2, 2}, gen));
    golden_.load_into(*generator_, "G.");
    golden_.load_into(*critic_, "D.");
  }

  double slope_ = 0;
  std::shared_ptr<nn::Sequential> generator_, critic_;
};

TEST_F(GoldenDcgan, ForwardBackwardAndRunningStatsMatchTorch) {
  const Tensor fake = generator_->forward(g("z"));
  EXPECT_TRUE(golden_.matches(fake, "fake", 1e-5));
  const Tensor score = critic_->forward(fake);
  EXPECT_TRUE(golden_.matches(score, "score", 1e-5));
  neg(mean(score)).backward();
  for (const auto& [name, p] : generator_->named_parameters())
    EXPECT_TRUE(golden_.matches(p.grad(), "grad.G." + name, 1e-4));
  for (const auto& [name, t] : generator_->named_buffers())
    if (name.find("running") != std::string::npos) {
      EXPECT_TRUE(golden_.matches(t, "after.G." + name, 1e-5));
    }
}

TEST_F(GoldenDcgan, GradientPenaltyWeightGradientsMatchTorch) {
  Tensor fake;
  {
    NoGradGuard no_grad;  // the fake images are data for the penalty
    fake = generator_->forward(g("z"));
  }
  const Tensor& alpha = g("alpha");
  const Tensor mix = add(mul(alpha, g("real")), mul(rsub(1.0, alpha), fake)).detach().set_requires_grad(true);
  const Tensor dx = autograd::grad({sum(critic_->forward(mix))}, {mix}, {}, /*create_graph=*/true)[0];
  const Tensor penalty = mean(pow(sub(norm(dx.flatten(1), 2.0, {1}), 1.0), 2.0));
  EXPECT_TRUE(golden_.matches(penalty, "gp.value", 1e-5));
  const nn::NamedTensors params = critic_->named_parameters();
  TensorList weights;
  for (const auto& [name, p] : params) weights.push_back(p);
  // The last bias does not reach d score / d x, nor (almost everywhere) the LayerNorm bias, which
  // enters only through leaky_relu's piecewise-constant slope: torch stores zeros for them.
  const TensorList grads = autograd::grad({penalty}, weights, {}, false, -1, /*allow_unused=*/true);
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_TRUE(golden_.matches(grads[i].defined() ? grads[i] : zeros_like(weights[i]),
                                "grad.gp.D." + params[i].first, 1e-4));
}

}  // namespace
}  // namespace gantry
