// The image GAN models by name (models/image_gan_models.h): parameter counts at the papers' widths,
// shapes of full-size forwards, the SNGAN/SAGAN initialisation, where SAGAN's attention sits, the
// unconditional generator block, and errors naming the option or the model.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/ops/ops.h"
#include "models/dcgan.h"
#include "models/image_gan_models.h"
#include "models/sagan.h"
#include "models/sngan.h"
#include "tests/support/error_matchers.h"
#include "tests/support/test_util.h"

namespace gantry {
namespace {

using models::ImageGanConfig;
using models::make_image_gan_models;

int64_t parameter_count(const nn::Module& m) {
  int64_t n = 0;
  for (const Tensor& p : m.parameters()) n += p.numel();
  return n;
}

struct CountCase {
  std::string model;
  int64_t num_classes;
  int64_t generator, critic;  // counted by hand from the layer shapes (docs/models.md)
  const char* published;      // what a paper or a reference log states, for the printout
};

TEST(ImageGanModels, ParameterCountsAtThePapersWidths) {
  const std::vector<CountCase> cases = {
      {"dcgan", 0, 1068928, 663296, "not stated in the DCGAN paper"},
      {"wgan-gc", 0, 1068928, 663296, "not stated in the WGAN paper"},
      {"msgan", 0, 1068928, 663296, "not stated in the MSGAN paper"},
      {"wgan-gp", 0, 5156867, 4114689, "not stated in the WGAN-GP paper"},
      {"sngan", 0, 4276739, 1053824, "not stated in the SNGAN paper"},
      {"sngan", 10, 4304387, 1055104, "StudioGAN's CIFAR-10 SNGAN log: G 4,304,387, D 1,055,105 (bias in l5)"},
      {"sagan", 0, 4358660, 1074305, "not stated in the SAGAN paper"},
      {"sagan", 10, 4386308, 1075585, "StudioGAN's CIFAR-10 SAGAN log: G 4,386,308, D 1,075,586 (bias in l5)"}};
  for (const CountCase& c : cases) {
    Generator gen(1);
    const auto models = make_image_gan_models({.model = c.model, .num_classes = c.num_classes}, gen);
    const int64_t g = parameter_count(*models.generator), d = parameter_count(*models.critic);
    std::printf("%-8s classes %2lld: generator %9lld, critic %9lld parameters; %s\n", c.model.c_str(),
                static_cast<long long>(c.num_classes), static_cast<long long>(g), static_cast<long long>(d),
                c.published);
    EXPECT_EQ(g, c.generator) << c.model << " " << c.num_classes;
    EXPECT_EQ(d, c.critic) << c.model << " " << c.num_classes;
  }
}

TEST(ImageGanModels, FullSizeModelsMapLatentsToImagesAndImagesToScores) {
  for (const std::string& name : models::image_gan_model_names()) {
    for (int64_t classes : {int64_t{0}, int64_t{10}}) {
      if (classes > 0 && name != "sngan" && name != "sagan") continue;
      Generator gen(2);
      const auto models = make_image_gan_models({.model = name, .num_classes = classes}, gen);
      const Tensor z = testing::random_uniform({2, models.config.latent_dim}, 3, -2.0, 2.0, DType::f32);
      const Tensor y = classes > 0 ? from_vector(std::vector<int64_t>{7, 0}, {2}) : Tensor();
      const Tensor images = models.generate(z, y);
      ASSERT_EQ(images.shape(), (Shape{2, 3, 32, 32})) << name;
      for (double v : to_vector<double>(images)) ASSERT_LT(std::abs(v), 1.0) << name;  // tanh
      const Tensor scores = models.score(images, y);
      ASSERT_EQ(scores.shape(), (Shape{2})) << name;
      for (double v : to_vector<double>(scores)) ASSERT_TRUE(std::isfinite(v)) << name;
    }
  }
}

// The sample standard deviation of a tensor's entries.
double std_of(const Tensor& t) {
  const auto v = to_vector<double>(t.to(DType::f64));
  double m = 0, s = 0;
  for (double e : v) m += e;
  m /= static_cast<double>(v.size());
  for (double e : v) s += (e - m) * (e - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

// By value: named_parameters() returns a temporary list, so a reference into it would dangle.
Tensor entry(const nn::Module& m, const std::string& name) {
  for (const auto& [n, t] : m.named_parameters())
    if (n == name) return t;
  ADD_FAILURE() << "no parameter " << name;
  return Tensor();
}

// Glorot uniform: std = gain * sqrt(2 / (fan_in + fan_out)).
double xavier_std(double gain, int64_t fan_in, int64_t fan_out) {
  return gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
}

TEST(ImageGanModels, SnganAndSaganStartFromTheirReferenceCodesInit) {
  Generator gen(4);
  models::SnganGenerator g({}, gen);
  models::SnganDiscriminator d({.num_classes = 10}, gen);
  const int64_t w = 256, fan3 = w * 9;
  // chainer GlorotUniform(sqrt(2)) on the residual 3x3 convs, GlorotUniform() elsewhere, zero biases.
  const auto expect_xavier = [](const Tensor& t, double gain, int64_t fan_in, int64_t fan_out, double rel) {
    EXPECT_NEAR(std_of(t), xavier_std(gain, fan_in, fan_out), rel * xavier_std(gain, fan_in, fan_out));
  };
  expect_xavier(entry(g, "block2.conv1.weight"), std::sqrt(2.0), fan3, fan3, 0.01);
  expect_xavier(entry(g, "block3.conv_sc.weight"), 1.0, w, w, 0.02);
  expect_xavier(entry(g, "l1.weight"), 1.0, 128, 16 * w, 0.01);
  expect_xavier(entry(d, "block2.conv2.weight_orig"), std::sqrt(2.0), 128 * 9, 128 * 9, 0.02);
  expect_xavier(entry(d, "l_y.weight_orig"), 1.0, 128, 10, 0.1);
  for (const char* bias : {"l1.bias", "block2.conv1.bias", "block3.conv2.bias", "block4.conv_sc.bias", "c5.bias"})
    for (double v : to_vector<double>(entry(g, bias))) ASSERT_EQ(v, 0.0) << bias;
  for (double v : to_vector<double>(entry(d, "block1.conv1.bias"))) ASSERT_EQ(v, 0.0);
  for (double v : to_vector<double>(entry(g, "b5.weight"))) ASSERT_EQ(v, 1.0);

  // SAGAN: gain 1 everywhere, attention projections included.
  models::SaganGenerator sg({}, gen);
  expect_xavier(entry(sg, "block2.conv1.weight_orig"), 1.0, fan3, fan3, 0.01);
  expect_xavier(entry(sg, "attn_block.g.weight_orig"), 1.0, w, w / 2, 0.02);
  EXPECT_EQ(to_vector<double>(entry(sg, "attn_block.gamma")), std::vector<double>{0.0});
}

// The positions of the first state-dict names of each top-level child, in order.
std::vector<std::string> top_level_children(const nn::Module& m) {
  std::vector<std::string> out;
  for (const auto& [name, child] : m.named_children()) out.push_back(name);
  return out;
}

TEST(ImageGanModels, SaganAttentionSitsWhereTheOptionsSay) {
  Generator gen(5);
  const models::SaganOptions o{.latent_dim = 4, .generator_width = 8, .critic_width = 8, .num_classes = 3};
  models::SaganGenerator g(o, gen);
  models::SaganDiscriminator d(o, gen);
  EXPECT_EQ(top_level_children(g),
            (std::vector<std::string>{"l1", "block2", "block3", "attn_block", "block4", "b5", "c5"}));
  EXPECT_EQ(top_level_children(d),
            (std::vector<std::string>{"block1", "attn_block", "block2", "block3", "block4", "l5", "l_y"}));
  models::SaganOptions moved = o;
  moved.generator_attention = 32;
  moved.critic_attention = 8;  // mimicry's SAGAN32 layout
  EXPECT_EQ(top_level_children(models::SaganGenerator(moved, gen)),
            (std::vector<std::string>{"l1", "block2", "block3", "block4", "attn_block", "b5", "c5"}));
  EXPECT_EQ(top_level_children(models::SaganDiscriminator(moved, gen)),
            (std::vector<std::string>{"block1", "block2", "attn_block", "block3", "block4", "l5", "l_y"}));
  // SNGAN has none, and no l_y when unconditional.
  EXPECT_EQ(top_level_children(models::SnganDiscriminator({.critic_width = 8}, gen)),
            (std::vector<std::string>{"block1", "block2", "block3", "block4", "l5"}));

  moved.generator_attention = 4;
  EXPECT_TRUE(testing::throws_error_mentioning([&] { models::SaganGenerator(moved, gen); },
                                               {"SaganGenerator", "generator_attention", "one of 8, 16, 32, got 4"}));
  moved.generator_attention = 16;
  moved.critic_attention = 32;
  EXPECT_TRUE(testing::throws_error_mentioning([&] { models::SaganDiscriminator(moved, gen); },
                                               {"SaganDiscriminator", "critic_attention", "one of 16, 8, got 32"}));
  moved.generator_attention = 0;
  EXPECT_TRUE(testing::throws_error_mentioning([&] { models::SaganGenerator(moved, gen); },
                                               {"SaganGenerator", "generator_attention"}));
}

TEST(ImageGanModels, UnconditionalGeneratorBlockUsesPlainBatchNorm) {
  Generator gen(6);
  models::ResnetGeneratorBlock block(4, 4, gen, {.spectral_norm = false});
  EXPECT_FALSE(block.conditional());
  std::vector<std::string> bn_names;
  for (const auto& [name, t] : block.state_dict())
    if (name.rfind("bn1.", 0) == 0) bn_names.push_back(name);
  EXPECT_EQ(bn_names, (std::vector<std::string>{"bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                                                "bn1.num_batches_tracked"}));
  const Tensor x = testing::random_uniform({2, 4, 3, 3}, 7, -1.0, 1.0, DType::f32);
  EXPECT_EQ(block(x, Tensor()).shape(), (Shape{2, 4, 6, 6}));
  EXPECT_TRUE(testing::throws_error_mentioning(
      [&] {
        block(x, from_vector(std::vector<int64_t>{0, 1}, {2}));
      },
      {"ResnetGeneratorBlock(4, 4)", "no condition"}));
  EXPECT_TRUE(testing::throws_error_mentioning([&] { block.bn1(); }, {"ResnetGeneratorBlock(4, 4)", "unconditional"}));
}

TEST(ImageGanModels, LabelsMustMatchTheModel) {
  Generator gen(8);
  const auto conditional = make_image_gan_models(
      {.model = "sngan", .num_classes = 4, .latent_dim = 4, .generator_width = 8, .critic_width = 8}, gen);
  const Tensor z = testing::random_uniform({2, 4}, 9, -1.0, 1.0, DType::f32);
  const Tensor x = testing::random_uniform({2, 3, 32, 32}, 10, -1.0, 1.0, DType::f32);
  EXPECT_TRUE(testing::throws_error_mentioning([&] { conditional.generate(z); },
                                               {"SnganGenerator", "int64 class labels [2]", "undefined"}));
  EXPECT_TRUE(testing::throws_error_mentioning(
      [&] {
        conditional.score(x, from_vector(std::vector<float>{0, 1}, {2}));
      },
      {"SnganDiscriminator", "int64 class labels", "float32"}));
  EXPECT_TRUE(testing::throws_error_mentioning(
      [&] {
        conditional.generate(z, from_vector(std::vector<int64_t>{0, 4}, {2}));
      },
      {"SnganGenerator", "[0, 4)"}));
  EXPECT_TRUE(testing::throws_error_mentioning(
      [&] {
        conditional.score(x, from_vector(std::vector<int64_t>{-1, 2}, {2}));
      },
      {"SnganDiscriminator", "class labels must lie in [0, 4)"}));
  const auto unconditional = make_image_gan_models({.model = "dcgan", .latent_dim = 4}, gen);
  EXPECT_TRUE(testing::throws_error_mentioning(
      [&] {
        unconditional.score(x, from_vector(std::vector<int64_t>{0, 1}, {2}));
      },
      {"DcganCritic", "unconditional", "num_classes 0"}));
  EXPECT_TRUE(testing::throws_error_mentioning(
      [&] {
        conditional.score(zeros({2, 3, 16, 16}), Tensor());
      },
      {"SnganDiscriminator", "[N, 3, 32, 32]", "[2, 3, 16, 16]"}));
}

TEST(ImageGanModels, ImpossibleCombinationsNameTheOption) {
  Generator gen(11);
  const auto fails = [&](const ImageGanConfig& c, std::vector<std::string> words) {
    return testing::throws_error_mentioning([&] { make_image_gan_models(c, gen); }, words);
  };
  EXPECT_TRUE(fails({.model = "biggan"}, {"model", "'biggan'", "dcgan, msgan, wgan-gc, wgan-gp, sngan, sagan"}));
  EXPECT_TRUE(fails({.model = "dcgan", .num_classes = 10}, {"num_classes", "dcgan", "no class-conditional"}));
  EXPECT_TRUE(fails({.model = "wgan-gp", .num_classes = 10}, {"num_classes", "wgan-gp"}));
  EXPECT_TRUE(fails({.model = "sngan", .image_size = 64}, {"image_size", "sngan", "32x32", "64"}));
  EXPECT_TRUE(fails({.model = "msgan", .image_size = 48}, {"image_size", "16, 32 or 64", "48"}));
  EXPECT_TRUE(fails({.model = "sagan", .channels = 0}, {"channels", "positive", "0"}));
  EXPECT_TRUE(fails({.model = "sagan", .generator_width = 12}, {"generator_width", "multiples of 8", "12"}));
  EXPECT_TRUE(fails({.model = "sngan", .latent_dim = -1}, {"latent_dim", "-1"}));
  EXPECT_TRUE(testing::throws_error_mentioning([&] { models::DcganCritic({.image_size = 32, .kernel_size = 3}, gen); },
                                               {"DcganCritic", "kernel_size must be 4 or 5", "got 3"}));
  // Defaults are filled in and reported.
  const auto gp = make_image_gan_models({.model = "wgan-gp"}, gen);
  EXPECT_EQ(gp.config.latent_dim, 128);
  EXPECT_EQ(gp.config.generator_width, 128);
  const auto one_channel =
      make_image_gan_models({.model = "sngan", .channels = 1, .generator_width = 8, .critic_width = 8}, gen);
  EXPECT_EQ(one_channel.generate(zeros({2, 128})).shape(), (Shape{2, 1, 32, 32}));
}

}  // namespace
}  // namespace gantry
