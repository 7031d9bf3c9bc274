// The SNGAN/BigGAN residual blocks: state-dict names, output shapes, the forward against the same
// composition written with the ops and the state dict's tensors, the shortcut rules, gradients by
// finite differences and bad input naming the block.
#include <vector>

#include "engine/nn/spectral_norm.h"
#include "engine/ops/nn_ops.h"
#include "models/resnet_blocks.h"
#include "tests/support/error_matchers.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_util.h"

namespace gantry::testing {
namespace {

class ResnetBlocksTest : public DeviceTest {
 protected:
  Tensor rand(const Shape& s, uint64_t seed, double lo = -1.0, double hi = 1.0) {
    return random_uniform(s, seed, lo, hi, DType::f64, device());
  }
  // The tensor of a state-dict entry.
  static Tensor entry(const nn::Module& m, const std::string& name) {
    for (const auto& [n, t] : m.state_dict())
      if (n == name) return t;
    ADD_FAILURE() << "no state-dict entry " << name;
    return Tensor();
  }
  // conv<prefix> as the block uses it: weight_orig / (u^T W v) with the stored vectors, and its bias.
  static Tensor sn_conv(const nn::Module& m, const std::string& prefix, const Tensor& x, int64_t padding) {
    const Tensor w = nn::spectral_normalize(entry(m, prefix + ".weight_orig"), entry(m, prefix + ".weight_u"),
                                            entry(m, prefix + ".weight_v"), 0);
    return conv2d(x, w, entry(m, prefix + ".bias"), {1, 1}, {padding, padding});
  }
};

TEST_P(ResnetBlocksTest, GeneratorBlockNamesAndShapes) {
  Generator gen(1);
  models::ResnetGeneratorBlock block(8, 4, gen, {.num_classes = 5}, DType::f64, device());
  EXPECT_EQ(names_of(block.state_dict()), (std::vector<std::string>{"conv1.bias",
                                                                    "conv1.weight_orig",
                                                                    "conv1.weight_u",
                                                                    "conv1.weight_v",
                                                                    "conv2.bias",
                                                                    "conv2.weight_orig",
                                                                    "conv2.weight_u",
                                                                    "conv2.weight_v",
                                                                    "conv_sc.bias",
                                                                    "conv_sc.weight_orig",
                                                                    "conv_sc.weight_u",
                                                                    "conv_sc.weight_v",
                                                                    "bn1.bn.running_mean",
                                                                    "bn1.bn.running_var",
                                                                    "bn1.bn.num_batches_tracked",
                                                                    "bn1.gain.weight",
                                                                    "bn1.bias.weight",
                                                                    "bn2.bn.running_mean",
                                                                    "bn2.bn.running_var",
                                                                    "bn2.bn.num_batches_tracked",
                                                                    "bn2.gain.weight",
                                                                    "bn2.bias.weight"}));
  EXPECT_EQ(entry(block, "conv1.weight_orig").shape(), (Shape{4, 8, 3, 3}));
  EXPECT_EQ(entry(block, "conv_sc.weight_orig").shape(), (Shape{4, 8, 1, 1}));
  EXPECT_EQ(entry(block, "bn1.gain.weight").shape(), (Shape{5, 8}));
  EXPECT_EQ(block(rand({3, 8, 4, 4}, 2), from_vector(std::vector<int64_t>{4, 0, 1}, {3}).to(device())).shape(),
            (Shape{3, 4, 8, 8}));

  // BigGAN-style conditioning: projected CBN on a condition vector, spectral norm on the projections.
  models::ResnetGeneratorBlock big(6, 6, gen, {.condition_dim = 10}, DType::f64, device());
  EXPECT_TRUE(big.has_shortcut_conv());  // upsampling needs the learnable shortcut even at equal widths
  EXPECT_EQ(entry(big, "bn2.gain.weight_orig").shape(), (Shape{6, 10}));
  EXPECT_EQ(big(rand({2, 6, 2, 3}, 3), rand({2, 10}, 4)).shape(), (Shape{2, 6, 4, 6}));
  // Without upsampling and at equal widths the shortcut is the identity, without parameters.
  models::ResnetGeneratorBlock same(4, 4, gen, {.num_classes = 2, .upsample = false, .spectral_norm = false},
                                    DType::f64, device());
  EXPECT_FALSE(same.has_shortcut_conv());
  EXPECT_EQ(entry(same, "conv1.weight").shape(), (Shape{4, 4, 3, 3}));  // plain Conv2d names without SN
}

TEST_P(ResnetBlocksTest, GeneratorBlockIsTheDocumentedComposition) {
  Generator gen(5);
  models::ResnetGeneratorBlock block(3, 2, gen, {.num_classes = 4}, DType::f64, device());
  // Non-trivial running statistics and class tables; eval mode makes every layer a fixed function.
  block.load_state_dict({{"bn1.bn.running_mean", rand({3}, 6)},
                         {"bn1.bn.running_var", rand({3}, 7, 0.5, 2.0)},
                         {"bn1.gain.weight", rand({4, 3}, 8, 0.5, 1.5)},
                         {"bn1.bias.weight", rand({4, 3}, 9)},
                         {"bn2.bn.running_mean", rand({2}, 10)},
                         {"bn2.bn.running_var", rand({2}, 11, 0.5, 2.0)},
                         {"bn2.gain.weight", rand({4, 2}, 12, 0.5, 1.5)},
                         {"bn2.bias.weight", rand({4, 2}, 13)}},
                        /*strict=*/false);
  block.eval();
  const Tensor x = rand({2, 3, 3, 3}, 14);
  const Tensor y = from_vector(std::vector<int64_t>{3, 1}, {2}).to(device());
  const auto cbn = [&](const std::string& bn, const Tensor& h) {
    const Tensor normed = batch_norm(h, entry(block, bn + ".bn.running_mean"), entry(block, bn + ".bn.running_var"),
                                     Tensor(), Tensor(), false);
    const int64_t c = h.shape()[1];
    return add(mul(normed, embedding(y, entry(block, bn + ".gain.weight")).reshape({2, c, 1, 1})),
               embedding(y, entry(block, bn + ".bias.weight")).reshape({2, c, 1, 1}));
  };
  Tensor h = interpolate_nearest(relu(cbn("bn1", x)), 2.0);
  h = sn_conv(block, "conv2", relu(cbn("bn2", sn_conv(block, "conv1", h, 1))), 1);
  const Tensor expected = add(h, sn_conv(block, "conv_sc", interpolate_nearest(x, 2.0), 0));
  EXPECT_TRUE(all_close(block(x, y), expected, 1e-12, 1e-12));

  // Gradients of the input and of every parameter (eval mode: u, v and the statistics fixed).
  const Tensor w = rand({2, 2, 6, 6}, 15);
  EXPECT_TRUE(gradcheck([&](const TensorList& in) { return block(in[0], y); }, {x.detach().set_requires_grad(true)}));
  EXPECT_TRUE(gradcheck_parameters([&] { return sum(mul(block(x, y), w)); }, block.parameters()));
}

TEST_P(ResnetBlocksTest, DiscriminatorBlocksAreTheDocumentedComposition) {
  Generator gen(20);
  const Tensor x = rand({2, 3, 4, 4}, 21);
  const auto pool = [](const Tensor& t) { return avg_pool2d(t, {2, 2}); };
  for (const bool preactivation : {true, false}) {
    models::ResnetDiscriminatorBlock block(3, 5, gen, {.preactivation = preactivation}, DType::f64, device());
    EXPECT_EQ(
        names_of(block.state_dict()),
        (std::vector<std::string>{"conv1.bias", "conv1.weight_orig", "conv1.weight_u", "conv1.weight_v", "conv2.bias",
                                  "conv2.weight_orig", "conv2.weight_u", "conv2.weight_v", "conv_sc.bias",
                                  "conv_sc.weight_orig", "conv_sc.weight_u", "conv_sc.weight_v"}));
    block.eval();
    const Tensor h = pool(sn_conv(block, "conv2", relu(sn_conv(block, "conv1", preactivation ? relu(x) : x, 1)), 1));
    const Tensor skip = preactivation ? pool(sn_conv(block, "conv_sc", x, 0)) : sn_conv(block, "conv_sc", pool(x), 0);
    const Tensor out = block.forward(x);
    EXPECT_EQ(out.shape(), (Shape{2, 5, 2, 2}));
    EXPECT_TRUE(all_close(out, add(h, skip), 1e-12, 1e-12)) << (preactivation ? "pre-activation" : "first block");
  }
  // hidden_channels sets conv1's width; without downsampling at equal widths the shortcut is the identity.
  models::ResnetDiscriminatorBlock narrow(4, 4, gen, {.hidden_channels = 2, .downsample = false}, DType::f64, device());
  EXPECT_FALSE(narrow.has_shortcut_conv());
  EXPECT_EQ(entry(narrow, "conv1.weight_orig").shape(), (Shape{2, 4, 3, 3}));
  narrow.eval();
  const Tensor x4 = rand({1, 4, 3, 3}, 22);
  const Tensor inner = sn_conv(narrow, "conv2", relu(sn_conv(narrow, "conv1", relu(x4), 1)), 1);
  EXPECT_TRUE(all_close(narrow.forward(x4), add(inner, x4), 1e-12, 1e-12));
}

TEST_P(ResnetBlocksTest, BadInputsNameTheBlockAndShapes) {
  Generator gen(30);
  models::ResnetGeneratorBlock block(4, 2, gen, {.num_classes = 3}, DType::f64, device());
  const Tensor y = from_vector(std::vector<int64_t>{0, 2}, {2}).to(device());
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        block(rand({2, 3, 4, 4}, 31), y);
      },
      {"ResnetGeneratorBlock(4, 2)", "[N, 4, H, W]", "[2, 3, 4, 4]"}));
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        block(rand({2, 4, 4, 4}, 32), from_vector(std::vector<int64_t>{0, 3}, {2}).to(device()));
      },
      {"ResnetGeneratorBlock(4, 2)", "CategoricalConditionalBatchNorm2d(4, num_classes=3)", "[0, 3)"}));
  EXPECT_TRUE(
      throws_error_mentioning([&] { models::ResnetGeneratorBlock(4, 2, gen, {.num_classes = 3, .condition_dim = 8}); },
                              {"ResnetGeneratorBlock(4, 2)", "exactly one", "num_classes", "condition_dim"}));
  models::ResnetDiscriminatorBlock d(3, 6, gen, {}, DType::f64, device());
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        d.forward(rand({2, 6, 4, 4}, 33));
      },
      {"ResnetDiscriminatorBlock(3, 6)", "[2, 6, 4, 4]"}));
}

GANTRY_INSTANTIATE_DEVICE_TEST(ResnetBlocksTest);

}  // namespace
}  // namespace gantry::testing
