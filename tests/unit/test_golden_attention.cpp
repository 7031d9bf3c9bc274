// The SAGAN self-attention block against PyTorch's BigGAN-layout Attention layer
// (tests/golden/make_attention_golden.py): output and the gradients of a weighted sum of it w.r.t. the
// input and every parameter in float32 on a non-square input, and the attention product alone in
// float64.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "engine/nn/self_attention.h"
#include "engine/ops/nn_ops.h"
#include "engine/ops/ops.h"
#include "tests/support/golden_file.h"

namespace gantry {
namespace {

class GoldenAttention : public ::testing::Test {
 protected:
  void SetUp() override { golden_ = testing::GoldenFile("attention_golden.safetensors"); }

  const Tensor& g(const std::string& name) const { return golden_.tensor(name); }

  testing::GoldenFile golden_;
};

TEST_F(GoldenAttention, AttentionOpMatchesTorchInFloat64) {
  const double scale = golden_.meta_double("scale");
  EXPECT_TRUE(golden_.matches(attention(g("op.q"), g("op.k"), g("op.v"), scale), "op.out", 1e-12));
}

TEST_F(GoldenAttention, SelfAttentionBlockMatchesTorch) {
  const Tensor& x0 = g("x");
  Generator gen(0);  // any init: the golden weights are loaded over it
  nn::SelfAttention block(x0.shape()[1], gen);
  golden_.load_into(block, "block.");
  ASSERT_EQ(block.gamma().item<float>(), std::stof(golden_.meta("gamma")));

  const Tensor x = x0.detach().set_requires_grad(true);
  const Tensor out = block.forward(x);
  EXPECT_TRUE(golden_.matches(out, "out", 1e-5));
  const nn::NamedTensors params = block.named_parameters();
  TensorList wrt{x};
  for (const auto& [name, p] : params) wrt.push_back(p);
  const TensorList grads = autograd::grad({sum(mul(out, g("weights")))}, wrt);
  EXPECT_TRUE(golden_.matches(grads[0], "grad.x", 1e-5));
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_TRUE(golden_.matches(grads[i + 1], "grad.block." + params[i].first, 1e-5));
}

}  // namespace
}  // namespace gantry
