// A small leaky-ReLU MLP against PyTorch (tests/golden/make_mlp_golden.py): forward, loss gradients,
// a WGAN-GP gradient penalty and its parameter gradients (double backward), and five Adam steps.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "engine/nn/activations.h"
#include "engine/nn/linear.h"
#include "engine/nn/sequential.h"
#include "engine/ops/ops.h"
#include "engine/optim/adam.h"
#include "tests/support/golden_file.h"

namespace gantry {
namespace {

class GoldenMlp : public ::testing::Test {
 protected:
  void SetUp() override {
    golden_ = testing::GoldenFile("mlp_golden.safetensors");
    slope_ = golden_.meta_double("leaky_relu_slope");
    Generator gen(0);  // any init: the golden weights are loaded over it
    net_ = std::make_shared<nn::Sequential>();
    net_->push_back(std::make_shared<nn::Linear>(3, 16, true, gen))
        .push_back(std::make_shared<nn::LeakyReLU>(slope_))
        .push_back(std::make_shared<nn::Linear>(16, 16, true, gen))
        .push_back(std::make_shared<nn::LeakyReLU>(slope_))
        .push_back(std::make_shared<nn::Linear>(16, 1, true, gen));
    golden_.load_into(*net_, "");  // the state dict is the parameters: no buffers
  }

  // f32 match within 1e-5 relative to the tensor's scale.
  ::testing::AssertionResult matches(const Tensor& actual, const std::string& name) const {
    return golden_.matches(actual, name, 1e-5);
  }

  Tensor loss_of(const Tensor& out) { return mse_loss(out, golden_.tensor("target")); }

  testing::GoldenFile golden_;
  double slope_ = 0;
  std::shared_ptr<nn::Sequential> net_;
};

TEST_F(GoldenMlp, ForwardAndLossGradients) {
  const Tensor out = (*net_)(golden_.tensor("input"));
  EXPECT_TRUE(matches(out, "output"));
  const Tensor loss = loss_of(out);
  EXPECT_TRUE(matches(loss, "loss"));
  loss.backward();
  for (const auto& [name, p] : net_->named_parameters()) EXPECT_TRUE(matches(p.grad(), "grad.loss." + name));
}

TEST_F(GoldenMlp, GradientPenaltyAndItsParameterGradients) {
  Tensor x = golden_.tensor("input").clone();
  x.set_requires_grad(true);
  const Tensor out = (*net_)(x);
  const Tensor dx = autograd::grad({sum(out)}, {x}, {}, /*create_graph=*/true)[0];
  EXPECT_TRUE(matches(dx, "gp.input_grad"));
  const Tensor gp = mean(pow(norm(dx, 2.0, {1}) - 1.0, 2.0));
  EXPECT_TRUE(matches(gp, "gp.value"));
  const std::vector<Tensor> params = net_->parameters();
  const TensorList grads = autograd::grad({gp}, params, {}, false, -1, /*allow_unused=*/true);
  const nn::NamedTensors named = net_->named_parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    // The output bias does not reach d out / d x: PyTorch reports no gradient (stored as zeros).
    const Tensor g = grads[i].defined() ? grads[i] : zeros_like(params[i]);
    EXPECT_TRUE(matches(g, "grad.gp." + named[i].first));
  }
}

TEST_F(GoldenMlp, FiveAdamSteps) {
  optim::AdamOptions options;
  options.lr = golden_.meta_double("adam_lr");
  options.beta1 = golden_.meta_double("adam_beta1");
  options.beta2 = golden_.meta_double("adam_beta2");
  options.eps = golden_.meta_double("adam_eps");
  optim::Adam adam(net_->parameters(), options);
  const int steps = static_cast<int>(golden_.meta_int("adam_steps"));
  ASSERT_EQ(steps, 5);
  for (int step = 1; step <= steps; ++step) {
    adam.zero_grad();
    loss_of((*net_)(golden_.tensor("input"))).backward();
    adam.step();
    for (const auto& [name, p] : net_->named_parameters())
      EXPECT_TRUE(matches(p, "adam.step" + std::to_string(step) + "." + name));
  }
}

}  // namespace
}  // namespace gantry
