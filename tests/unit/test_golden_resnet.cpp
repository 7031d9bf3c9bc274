// Spectral norm, class-conditional batch norm and the ResNet blocks against PyTorch
// (tests/golden/make_resnet_golden.py, float64): one training forward from PyTorch's state dict
// (weight_orig, weight_u, weight_v, BatchNorm buffers), the output, every parameter and input
// gradient, the updated u/v and running statistics, a WGAN-GP penalty's weight gradients through a
// spectrally normalised discriminator block, and SN on ConvTranspose2d (dim 1) and Embedding in
// training and eval mode. Each case runs in float64 (to rounding) and float32.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>

#include "engine/nn/conditional_batch_norm.h"
#include "engine/nn/spectral_norm.h"
#include "engine/ops/ops.h"
#include "models/resnet_blocks.h"
#include "tests/support/golden_file.h"

namespace gantry {
namespace {

struct Precision {
  DType dtype;
  double rtol;
};
void PrintTo(const Precision& p, std::ostream* os) { *os << dtype_name(p.dtype) << " (rtol " << p.rtol << ")"; }

class GoldenResnet : public ::testing::TestWithParam<Precision> {
 protected:
  void SetUp() override { golden_ = testing::GoldenFile("resnet_golden.safetensors"); }

  DType dtype() const { return GetParam().dtype; }
  double rtol() const { return GetParam().rtol; }
  const Tensor& g(const std::string& name) const { return golden_.tensor(name); }
  // A golden input in the precision under test (int64 class indices unchanged).
  Tensor input(const std::string& name) const {
    const Tensor& t = g(name);
    return t.dtype() == DType::i64 ? t : t.to(dtype());
  }
  Tensor leaf(const std::string& name) const { return input(name).detach().set_requires_grad(true); }

  // |actual - expected| <= rtol * (|expected| + max(1, max |expected|)); int64 tensors must be equal.
  // The floor of 1 (the inputs' scale) keeps gradients that are zero up to rounding fair, such as
  // the bias of a conv that a batch norm follows.
  ::testing::AssertionResult matches(const Tensor& actual, const std::string& name) const {
    return golden_.matches(actual, name, rtol(), /*scale_floor=*/1.0);
  }

  // Loads "<prefix>before.<name>" for every entry of the module's state dict (strict).
  void load(nn::Module& m, const std::string& prefix) const { golden_.load_into(m, prefix + "before."); }

  // The gradients of every parameter and the buffers after the forward, against "<prefix>grad.*" and
  // "<prefix>after.*".
  void expect_gradients_and_buffers(const nn::Module& m, const std::string& prefix) const {
    for (const auto& [name, p] : m.named_parameters()) EXPECT_TRUE(matches(p.grad(), prefix + "grad." + name));
    for (const auto& [name, b] : m.named_buffers()) EXPECT_TRUE(matches(b, prefix + "after." + name));
  }

  testing::GoldenFile golden_;
};

TEST_P(GoldenResnet, GeneratorBlockTrainingStepMatchesTorch) {
  Generator gen(0);  // any init: the golden state is loaded over it
  models::ResnetGeneratorBlock block(8, 4, gen, {.num_classes = 5}, dtype());
  load(block, "G.");
  const Tensor x = leaf("G.x");
  const Tensor out = block(x, input("G.y"));
  EXPECT_TRUE(matches(out, "G.out"));
  sum(mul(out, input("G.grad_output"))).backward();
  EXPECT_TRUE(matches(x.grad(), "G.grad.x"));
  expect_gradients_and_buffers(block, "G.");
}

TEST_P(GoldenResnet, DiscriminatorBlockAndGradientPenaltyMatchTorch) {
  Generator gen(0);
  models::ResnetDiscriminatorBlock block(4, 6, gen, {}, dtype());
  load(block, "D.");
  const Tensor x = leaf("D.x");
  const Tensor out = block(x);
  EXPECT_TRUE(matches(out, "D.out"));
  sum(mul(out, input("D.grad_output"))).backward();
  EXPECT_TRUE(matches(x.grad(), "D.grad.x"));
  expect_gradients_and_buffers(block, "D.");

  // The penalty's forward is a second training forward: one more power iteration, as in torch.
  const Tensor mix = input("D.x").detach().set_requires_grad(true);
  const Tensor dx = autograd::grad({sum(block(mix))}, {mix}, {}, /*create_graph=*/true)[0];
  const Tensor penalty = mean(pow(sub(norm(dx.flatten(1), 2.0, {1}), 1.0), 2.0));
  EXPECT_TRUE(matches(penalty, "D.gp.value"));
  const nn::NamedTensors params = block.named_parameters();
  TensorList weights;
  for (const auto& [name, p] : params) weights.push_back(p);
  // Biases after the last ReLU do not reach d out / d x; torch stores zeros for them.
  const TensorList grads = autograd::grad({penalty}, weights, {}, false, -1, /*allow_unused=*/true);
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_TRUE(matches(grads[i].defined() ? grads[i] : zeros_like(weights[i]), "D.gp.grad." + params[i].first));
}

TEST_P(GoldenResnet, ProjectedConditionalBatchNormMatchesTorch) {
  Generator gen(0);
  nn::ProjectedConditionalBatchNorm2d cbn(4, 6, gen, /*spectral_norm=*/true, {}, dtype());
  load(cbn, "P.");
  const Tensor x = leaf("P.x"), c = leaf("P.c");
  const Tensor out = cbn(x, c);
  EXPECT_TRUE(matches(out, "P.out"));
  sum(mul(out, input("P.grad_output"))).backward();
  EXPECT_TRUE(matches(x.grad(), "P.grad.x"));
  EXPECT_TRUE(matches(c.grad(), "P.grad.c"));
  expect_gradients_and_buffers(cbn, "P.");
}

TEST_P(GoldenResnet, SpectralNormOnConvTransposeAndEmbeddingMatchesTorch) {
  Generator gen(0);
  auto convt = nn::spectral_norm(
      std::make_shared<nn::ConvTranspose2d>(3, 5, Size2{3, 3}, gen,
                                            nn::ConvTranspose2dOptions{.stride = {2, 2}, .padding = {1, 1}}, dtype()),
      gen);
  EXPECT_EQ(convt->dim(), 1);  // torch's default for transposed convolutions
  auto emb = nn::spectral_norm(std::make_shared<nn::Embedding>(7, 4, gen, dtype()), gen);
  struct Case {
    std::string prefix;
    std::shared_ptr<nn::SpectralNorm> layer;
    Tensor x;
  };
  // One training forward (power iteration, gradients, updated u/v), then one eval forward.
  for (const auto& [prefix, layer, x] : {Case{"T.", convt, input("T.x")}, Case{"E.", emb, input("E.x")}}) {
    load(*layer, prefix);
    const Tensor out = layer->forward(x);
    EXPECT_TRUE(matches(out, prefix + "out"));
    sum(mul(out, input(prefix + "grad_output"))).backward();
    expect_gradients_and_buffers(*layer, prefix);
    layer->eval();
    const std::vector<double> u = to_vector<double>(layer->weight_u().to(DType::f64));
    EXPECT_TRUE(matches(layer->forward(x), prefix + "eval_out"));
    EXPECT_EQ(to_vector<double>(layer->weight_u().to(DType::f64)), u) << prefix << ": eval mode must not update u";
  }
}

INSTANTIATE_TEST_SUITE_P(Precisions, GoldenResnet,
                         ::testing::Values(Precision{DType::f64, 1e-10}, Precision{DType::f32, 1e-5}),
                         [](const ::testing::TestParamInfo<Precision>& info) {
                           return std::string(dtype_name(info.param.dtype));
                         });

}  // namespace
}  // namespace gantry
