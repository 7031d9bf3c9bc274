// The SAGAN self-attention block against PyTorch's BigGAN-layout Attention layer
// (tests/golden/make_attention_golden.py): output and the gradients of a weighted sum of it w.r.t. the
// input and every parameter in float32 on a non-square input, and the attention product alone in
// float64.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "engine/io/safetensors.h"
#include "engine/nn/self_attention.h"
#include "engine/ops/nn_ops.h"
#include "engine/ops/ops.h"
#include "tests/support/test_util.h"

namespace gantry {
namespace {

class GoldenAttention : public ::testing::Test {
 protected:
  void SetUp() override { golden_ = io::load_safetensors(testing::test_data_path("attention_golden.safetensors")); }

  const Tensor& g(const std::string& name) const { return golden_.at(name); }

  // |actual - expected| <= rtol * (|expected| + max |expected|), as in test_golden_layers.cpp.
  void expect_matches(const Tensor& actual, const std::string& name, double rtol) const {
    const Tensor& expected = g(name);
    ASSERT_TRUE(actual.defined()) << name;
    ASSERT_EQ(actual.shape(), expected.shape()) << name;
    double scale = 0;
    for (double v : to_vector<double>(expected.to(DType::f64))) scale = std::max(scale, std::abs(v));
    EXPECT_TRUE(testing::all_close(actual.to(expected.dtype()), expected, rtol, rtol * scale)) << name;
  }

  io::TensorFile golden_;
};

TEST_F(GoldenAttention, AttentionOpMatchesTorchInFloat64) {
  const double scale = std::stod(golden_.metadata.at("scale"));
  expect_matches(attention(g("op.q"), g("op.k"), g("op.v"), scale), "op.out", 1e-12);
}

TEST_F(GoldenAttention, SelfAttentionBlockMatchesTorch) {
  const Tensor& x0 = g("x");
  Generator gen(0);  // any init: the golden weights are loaded over it
  nn::SelfAttention block(x0.shape()[1], gen);
  nn::StateDict state;
  for (const auto& [name, t] : block.state_dict()) state.emplace_back(name, g("block." + name));
  block.load_state_dict(state);
  ASSERT_EQ(block.gamma().item<float>(), std::stof(golden_.metadata.at("gamma")));

  const Tensor x = x0.detach().set_requires_grad(true);
  const Tensor out = block.forward(x);
  expect_matches(out, "out", 1e-5);
  const nn::NamedTensors params = block.named_parameters();
  TensorList wrt{x};
  for (const auto& [name, p] : params) wrt.push_back(p);
  const TensorList grads = autograd::grad({sum(mul(out, g("weights")))}, wrt);
  expect_matches(grads[0], "grad.x", 1e-5);
  for (size_t i = 0; i < params.size(); ++i) expect_matches(grads[i + 1], "grad.block." + params[i].first, 1e-5);
}

}  // namespace
}  // namespace gantry
