// The DCGAN models (models/dcgan.h): one non-saturating GAN step of a small generator and critic
// against PyTorch (tests/golden/make_dcgan_golden.py) in float32 — fake images, scores, losses, every
// parameter gradient of both networks, BatchNorm running statistics and evaluation-mode outputs — and
// the layouts for 32 and 64 pixels, the LayerNorm critic's double backward, and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/nn/norm.h"
#include "engine/ops/ops.h"
#include "models/dcgan.h"
#include "tests/support/error_matchers.h"
#include "tests/support/golden_file.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_util.h"

namespace gantry {
namespace {

using models::CriticNorm;
using models::DcganCritic;
using models::DcganGenerator;
using models::DcganOptions;

class GoldenDcganModel : public ::testing::Test {
 protected:
  void SetUp() override {
    golden_ = testing::GoldenFile("dcgan_golden.safetensors");
    const auto meta = [&](const char* key) { return golden_.meta_int(key); };
    options_ = {.latent_dim = meta("latent_dim"),
                .image_size = meta("image_size"),
                .channels = meta("channels"),
                .generator_width = meta("generator_width"),
                .critic_width = meta("critic_width"),
                .critic_norm = CriticNorm::batch,
                .leaky_relu_slope = golden_.meta_double("leaky_relu_slope")};
    Generator gen(0);  // any init: the golden weights are loaded over it
    generator_ = std::make_shared<DcganGenerator>(options_, gen);
    critic_ = std::make_shared<DcganCritic>(options_, gen);
    golden_.load_into(*generator_, "G.");
    golden_.load_into(*critic_, "D.");
  }

  const Tensor& g(const std::string& name) const { return golden_.tensor(name); }

  // The golden rule at rtol 1e-5 (int64 tensors exactly).
  ::testing::AssertionResult matches(const Tensor& actual, const std::string& name) const {
    return golden_.matches(actual, name, 1e-5);
  }

  TensorList parameters_of(const nn::Module& m) const { return m.parameters(); }

  testing::GoldenFile golden_;
  DcganOptions options_;
  std::shared_ptr<DcganGenerator> generator_;
  std::shared_ptr<DcganCritic> critic_;
};

TEST_F(GoldenDcganModel, StateDictHasTorchNamesAndShapes) {
  // Every tensor of the torch models, and nothing else, in torch's order.
  std::vector<std::string> torch_names, ours;
  for (const auto& [name, t] : golden_.contents().tensors)
    if (name.rfind("G.", 0) == 0 || name.rfind("D.", 0) == 0) torch_names.push_back(name);
  for (const auto& [name, t] : generator_->state_dict()) {
    ours.push_back("G." + name);
    EXPECT_EQ(t.shape(), g("G." + name).shape()) << name;
  }
  for (const auto& [name, t] : critic_->state_dict()) {
    ours.push_back("D." + name);
    EXPECT_EQ(t.shape(), g("D." + name).shape()) << name;
  }
  EXPECT_EQ(ours, torch_names);
}

TEST_F(GoldenDcganModel, GanStepMatchesTorch) {
  const Tensor fake = generator_->forward(g("z"));
  EXPECT_TRUE(matches(fake, "fake"));

  // Critic step: real and fake through BatchNorm as separate batches.
  const Tensor score_real = critic_->forward(g("real"));
  const Tensor score_fake = critic_->forward(fake.detach());
  EXPECT_TRUE(matches(score_real, "score.real"));
  EXPECT_TRUE(matches(score_fake, "score.fake"));
  const Tensor loss_d = ns_d_loss(score_real, score_fake);
  EXPECT_TRUE(matches(loss_d, "loss.D"));
  const nn::NamedTensors d_params = critic_->named_parameters();
  const TensorList grads_d = autograd::grad({loss_d}, parameters_of(*critic_));
  for (size_t i = 0; i < d_params.size(); ++i) EXPECT_TRUE(matches(grads_d[i], "grad.D." + d_params[i].first));

  // Generator step through the critic, still in training mode.
  const Tensor loss_g = ns_g_loss(critic_->forward(fake));
  EXPECT_TRUE(matches(loss_g, "loss.G"));
  const nn::NamedTensors g_params = generator_->named_parameters();
  const TensorList grads_g = autograd::grad({loss_g}, parameters_of(*generator_));
  for (size_t i = 0; i < g_params.size(); ++i) EXPECT_TRUE(matches(grads_g[i], "grad.G." + g_params[i].first));

  // Running statistics after one generator and three critic batches, then evaluation mode on them.
  for (const auto& [name, t] : generator_->named_buffers()) EXPECT_TRUE(matches(t, "after.G." + name));
  for (const auto& [name, t] : critic_->named_buffers()) EXPECT_TRUE(matches(t, "after.D." + name));
  generator_->eval();
  critic_->eval();
  NoGradGuard no_grad;
  EXPECT_TRUE(matches(generator_->forward(g("z")), "eval.fake"));
  EXPECT_TRUE(matches(critic_->forward(g("real")), "eval.score.real"));
}

// ---- layouts, initialisation and bad input (no golden file) ------------------------------------

std::vector<std::pair<std::string, Shape>> names_and_shapes(const nn::Module& m) {
  std::vector<std::pair<std::string, Shape>> out;
  for (const auto& [name, t] : m.named_parameters()) out.emplace_back(name, t.shape());
  return out;
}

TEST(DcganModels, LayoutsFollowTheImageSize) {
  Generator gen(1);
  const DcganOptions o64{.latent_dim = 10, .image_size = 64, .channels = 3, .generator_width = 2, .critic_width = 2};
  DcganGenerator g64(o64, gen);
  const std::vector<std::pair<std::string, Shape>> g64_expected = {
      {"main.0.weight", {10, 16, 4, 4}}, {"main.1.weight", {16}}, {"main.1.bias", {16}},
      {"main.3.weight", {16, 8, 4, 4}},  {"main.4.weight", {8}},  {"main.4.bias", {8}},
      {"main.6.weight", {8, 4, 4, 4}},   {"main.7.weight", {4}},  {"main.7.bias", {4}},
      {"main.9.weight", {4, 2, 4, 4}},   {"main.10.weight", {2}}, {"main.10.bias", {2}},
      {"main.12.weight", {2, 3, 4, 4}}};
  EXPECT_EQ(names_and_shapes(g64), g64_expected);
  const Tensor images = g64.forward(testing::random_uniform({2, 10}, 11, -2.0, 2.0, DType::f32));
  EXPECT_EQ(images.shape(), (Shape{2, 3, 64, 64}));
  for (double v : to_vector<double>(images)) ASSERT_LT(std::abs(v), 1.0);  // tanh

  DcganCritic c64(o64, gen);
  const std::vector<std::pair<std::string, Shape>> c64_expected = {{"main.0.weight", {2, 3, 4, 4}},
                                                                   {"main.2.weight", {4, 2, 4, 4}},
                                                                   {"main.3.weight", {4}},
                                                                   {"main.3.bias", {4}},
                                                                   {"main.5.weight", {8, 4, 4, 4}},
                                                                   {"main.6.weight", {8}},
                                                                   {"main.6.bias", {8}},
                                                                   {"main.8.weight", {16, 8, 4, 4}},
                                                                   {"main.9.weight", {16}},
                                                                   {"main.9.bias", {16}},
                                                                   {"main.11.weight", {1, 16, 4, 4}}};
  EXPECT_EQ(names_and_shapes(c64), c64_expected);
  EXPECT_EQ(c64.forward(images).shape(), (Shape{2}));

  // 32 pixels: one stage fewer; a LayerNorm critic normalises [C, H, W] of each stage.
  const DcganOptions o32{.latent_dim = 5,
                         .image_size = 32,
                         .channels = 1,
                         .generator_width = 3,
                         .critic_width = 3,
                         .critic_norm = CriticNorm::layer};
  DcganGenerator g32(o32, gen);
  EXPECT_EQ(names_and_shapes(g32).front(), (std::pair<std::string, Shape>{"main.0.weight", {5, 12, 4, 4}}));
  EXPECT_EQ(names_and_shapes(g32).back(), (std::pair<std::string, Shape>{"main.9.weight", {3, 1, 4, 4}}));
  const Tensor small = g32.forward(testing::random_uniform({3, 5}, 12, -2.0, 2.0, DType::f32).reshape({3, 5, 1, 1}));
  EXPECT_EQ(small.shape(), (Shape{3, 1, 32, 32}));
  DcganCritic c32(o32, gen);
  const std::vector<std::pair<std::string, Shape>> c32_expected = {
      {"main.0.weight", {3, 1, 4, 4}}, {"main.2.weight", {6, 3, 4, 4}},  {"main.3.weight", {6, 8, 8}},
      {"main.3.bias", {6, 8, 8}},      {"main.5.weight", {12, 6, 4, 4}}, {"main.6.weight", {12, 4, 4}},
      {"main.6.bias", {12, 4, 4}},     {"main.8.weight", {1, 12, 4, 4}}};
  EXPECT_EQ(names_and_shapes(c32), c32_expected);
  EXPECT_EQ(c32.forward(small).shape(), (Shape{3}));

  // No normalisation: convolutions and activations only.
  DcganCritic plain(
      {.latent_dim = 5, .image_size = 16, .channels = 1, .critic_width = 2, .critic_norm = CriticNorm::none}, gen);
  EXPECT_EQ(names_and_shapes(plain),
            (std::vector<std::pair<std::string, Shape>>{
                {"main.0.weight", {2, 1, 4, 4}}, {"main.2.weight", {4, 2, 4, 4}}, {"main.4.weight", {1, 4, 4, 4}}}));
}

TEST(DcganModels, InitialisationIsTheDcganPapers) {
  Generator gen(2);
  DcganGenerator g({.latent_dim = 100, .image_size = 16, .generator_width = 32}, gen);
  const auto stats = [](const Tensor& t) {
    const auto v = to_vector<double>(t);
    double m = 0, s = 0;
    for (double e : v) m += e;
    m /= static_cast<double>(v.size());
    for (double e : v) s += (e - m) * (e - m);
    return std::pair<double, double>{m, std::sqrt(s / static_cast<double>(v.size() - 1))};
  };
  const auto [wm, ws] = stats(g.main()[0]->named_parameters()[0].second);  // 100 x 64 x 4 x 4 weights
  EXPECT_NEAR(wm, 0.0, 1e-3);
  EXPECT_NEAR(ws, 0.02, 0.02 * 0.02);
  const auto& bn = dynamic_cast<const nn::BatchNorm2d&>(*g.main()[1]);
  const auto [bm, bs] = stats(bn.weight());
  EXPECT_NEAR(bm, 1.0, 0.02);
  EXPECT_GT(bs, 0.005);  // drawn, not the constant 1
  for (double b : to_vector<double>(bn.bias())) EXPECT_EQ(b, 0.0);
}

TEST(DcganModels, LayerNormCriticHasDoubleBackward) {
  // WGAN-GP differentiates the input gradient of the critic.
  Generator gen(3);
  DcganCritic critic(
      {.latent_dim = 4, .image_size = 16, .channels = 1, .critic_width = 2, .critic_norm = CriticNorm::layer}, gen,
      DType::f64);
  {
    NoGradGuard no_grad;  // larger weights than the init so the LeakyReLU slopes vary
    for (auto& [name, p] : critic.named_parameters())
      if (name.find("main.3") == std::string::npos) copy_(p, mul(p, 20.0));
  }
  const Tensor x = testing::random_uniform({2, 1, 16, 16}, 5).set_requires_grad(true);
  EXPECT_TRUE(testing::gradgradcheck([&](const TensorList& in) { return critic.forward(in[0]); }, {x}));
}

TEST(DcganModels, BadInputNamesTheModelAndShapes) {
  Generator gen(4);
  EXPECT_TRUE(testing::throws_error_mentioning([&] { DcganGenerator({.image_size = 48}, gen); },
                                               {"DcganGenerator", "16, 32 or 64", "48"}));
  EXPECT_TRUE(testing::throws_error_mentioning([&] { DcganCritic({.image_size = 16, .critic_width = 0}, gen); },
                                               {"DcganCritic", "critic_width 0"}));
  DcganGenerator g({.latent_dim = 8, .image_size = 16, .generator_width = 2}, gen);
  EXPECT_TRUE(testing::throws_error_mentioning(
      [&] {
        g.forward(zeros({2, 7}));
      },
      {"DcganGenerator", "[N, 8] or [N, 8, 1, 1]", "[2, 7]"}));
  EXPECT_TRUE(testing::throws_error_mentioning(
      [&] {
        g.forward(zeros({2, 8, 2, 2}));
      },
      {"DcganGenerator", "[2, 8, 2, 2]"}));
  DcganCritic c({.image_size = 16, .channels = 3, .critic_width = 2}, gen);
  EXPECT_TRUE(testing::throws_error_mentioning(
      [&] {
        c.forward(zeros({2, 3, 32, 32}));
      },
      {"DcganCritic", "[N, 3, 16, 16]", "[2, 3, 32, 32]"}));
}

}  // namespace
}  // namespace gantry
