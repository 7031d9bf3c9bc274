// nn::Module naming and state dicts, Linear/Sequential/activations, and the initialisers.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/nn/activations.h"
#include "engine/nn/init.h"
#include "engine/nn/linear.h"
#include "engine/nn/sequential.h"
#include "engine/ops/ops.h"
#include "tests/support/test_util.h"

namespace gantry {
namespace {

using nn::Linear;
using nn::Sequential;
using testing::names_of;

std::shared_ptr<Sequential> small_mlp(Generator& gen) {
  return std::make_shared<Sequential>(Sequential{std::make_shared<Linear>(3, 5, true, gen),
                                                 std::make_shared<nn::LeakyReLU>(0.2),
                                                 std::make_shared<Linear>(5, 2, false, gen)});
}

// A module with a buffer and a nested child, for naming order.
struct Block : nn::Module {
  explicit Block(Generator& gen) {
    register_parameter("scale", ones({2}));
    register_buffer("running_mean", full({2}, 0.5));
    inner = register_module("inner", std::make_shared<Linear>(2, 2, true, gen));
  }
  std::shared_ptr<Linear> inner;
};

TEST(Module, PyTorchDottedNamesAndOrder) {
  Generator gen(0);
  auto mlp = small_mlp(gen);
  EXPECT_EQ(names_of(mlp->named_parameters()), (std::vector<std::string>{"0.weight", "0.bias", "2.weight"}));
  EXPECT_EQ(mlp->parameters().size(), 3u);
  Block block(gen);
  EXPECT_EQ(names_of(block.state_dict()),
            (std::vector<std::string>{"scale", "running_mean", "inner.weight", "inner.bias"}));
  EXPECT_EQ(names_of(block.named_buffers()), (std::vector<std::string>{"running_mean"}));
  for (const Tensor& p : block.parameters()) EXPECT_TRUE(p.requires_grad());
  EXPECT_FALSE(block.named_buffers()[0].second.requires_grad());
}

TEST(Module, RegistrationErrors) {
  nn::Module m;
  m.register_parameter("w", ones({2}));
  EXPECT_THROW(m.register_parameter("w", ones({2})), Error);
  EXPECT_THROW(m.register_buffer("w", ones({2})), Error);
  EXPECT_THROW(m.register_parameter("a.b", ones({2})), Error);
  EXPECT_THROW(m.register_parameter("i", zeros({2}, DType::i64)), Error);
  EXPECT_THROW(m.forward(ones({2})), Error);
}

TEST(Module, StateDictRoundTripCopiesIntoTheSameHandles) {
  Generator g1(1), g2(2);
  auto a = small_mlp(g1);
  auto b = small_mlp(g2);
  const Tensor b_weight = b->named_parameters()[0].second;  // a handle an optimiser would hold
  EXPECT_NE(to_vector<float>(a->state_dict()[0].second), to_vector<float>(b_weight));
  b->load_state_dict(a->state_dict());
  for (size_t i = 0; i < a->state_dict().size(); ++i)
    EXPECT_EQ(to_vector<float>(a->state_dict()[i].second), to_vector<float>(b->state_dict()[i].second));
  EXPECT_EQ(to_vector<float>(b_weight), to_vector<float>(a->state_dict()[0].second));
  EXPECT_TRUE(b_weight.requires_grad());
  // Values are copied, not aliased.
  EXPECT_FALSE(b_weight.impl().storage == a->state_dict()[0].second.impl().storage);
}

void expect_load_error(nn::Module& m, const nn::StateDict& sd, const std::string& needle) {
  try {
    m.load_state_dict(sd);
    ADD_FAILURE() << "expected an error containing " << needle;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Module, LoadStateDictErrorsNameTheKeys) {
  Generator gen(3);
  auto m = small_mlp(gen);
  nn::StateDict sd = m->state_dict();
  nn::StateDict missing(sd.begin(), sd.end() - 1);
  expect_load_error(*m, missing, "missing keys: 2.weight");
  nn::StateDict extra = sd;
  extra.emplace_back("3.weight", ones({2}));
  expect_load_error(*m, extra, "unexpected keys: 3.weight");
  nn::StateDict wrong = sd;
  wrong[1].second = ones({4});
  expect_load_error(*m, wrong, "0.bias (checkpoint [4], model [5])");
  // Non-strict loading tolerates missing/unexpected keys but not shape mismatches.
  EXPECT_NO_THROW(m->load_state_dict(extra, false));
  EXPECT_THROW(m->load_state_dict(wrong, false), Error);
}

TEST(Module, TrainModePropagatesAndZeroGradDropsGrads) {
  Generator gen(4);
  auto m = small_mlp(gen);
  EXPECT_TRUE(m->is_training());
  m->eval();
  EXPECT_FALSE(m->is_training());
  EXPECT_FALSE((*m)[0]->is_training());
  m->train();
  EXPECT_TRUE((*m)[2]->is_training());
  const Tensor x = testing::random_uniform({4, 3}, 9, -1, 1, DType::f32);
  sum((*m)(x)).backward();
  for (const Tensor& p : m->parameters()) EXPECT_TRUE(p.grad().defined());
  m->zero_grad();
  for (const Tensor& p : m->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(Module, ToSameDeviceKeepsHandles) {
  Generator gen(5);
  auto m = small_mlp(gen);
  const Tensor w = m->parameters()[0];
  const std::vector<float> before = to_vector<float>(w);
  m->to(kCPU);
  EXPECT_EQ(to_vector<float>(m->parameters()[0]), before);
  EXPECT_TRUE(m->parameters()[0].same(w));
}

TEST(Linear, PyTorchDefaultInitBoundsAndDeterminism) {
  Generator g1(6), g2(6);
  Linear a(64, 32, true, g1), b(64, 32, true, g2);
  EXPECT_EQ(a.weight().shape(), (Shape{32, 64}));
  EXPECT_EQ(a.bias().shape(), (Shape{32}));
  EXPECT_EQ(to_vector<float>(a.weight()), to_vector<float>(b.weight()));
  const double bound = 1.0 / std::sqrt(64.0);
  double sq = 0;
  for (float v : to_vector<float>(a.weight())) {
    EXPECT_LE(std::abs(v), bound);
    sq += v * v;
  }
  // U(-b, b) has variance b^2 / 3.
  EXPECT_NEAR(sq / (32 * 64), bound * bound / 3, 0.1 * bound * bound / 3);
  for (float v : to_vector<float>(a.bias())) EXPECT_LE(std::abs(v), bound);
  Linear no_bias(4, 2, false, g1);
  EXPECT_FALSE(no_bias.bias().defined());
  EXPECT_EQ(no_bias.named_parameters().size(), 1u);
}

TEST(Linear, ForwardMatchesNaiveProduct) {
  Generator gen(7);
  Linear layer(3, 4, true, gen, DType::f64);
  const Tensor x = testing::random_uniform({5, 3}, 10, -1, 1, DType::f64);
  const std::vector<double> y = to_vector<double>(layer(x));
  const std::vector<double> w = to_vector<double>(layer.weight()), b = to_vector<double>(layer.bias()),
                            xv = to_vector<double>(x);
  for (int i = 0; i < 5; ++i)
    for (int o = 0; o < 4; ++o) {
      double ref = b[o];
      for (int k = 0; k < 3; ++k) ref += xv[i * 3 + k] * w[o * 3 + k];
      EXPECT_NEAR(y[i * 4 + o], ref, 1e-12);
    }
  EXPECT_THROW(layer(testing::random_uniform({5, 2}, 1, -1, 1, DType::f64)), Error);
}

TEST(Activations, ModulesMatchOps) {
  const Tensor x = testing::random_uniform({7}, 11, -2, 2, DType::f64);
  const std::vector<double> xv = to_vector<double>(x);
  const std::vector<double> r = to_vector<double>(nn::ReLU()(x)), l = to_vector<double>(nn::LeakyReLU(0.2)(x)),
                            t = to_vector<double>(nn::Tanh()(x)), s = to_vector<double>(nn::Sigmoid()(x));
  for (size_t i = 0; i < xv.size(); ++i) {
    EXPECT_DOUBLE_EQ(r[i], std::max(xv[i], 0.0));
    EXPECT_DOUBLE_EQ(l[i], xv[i] > 0 ? xv[i] : 0.2 * xv[i]);
    EXPECT_NEAR(t[i], std::tanh(xv[i]), 1e-15);
    EXPECT_NEAR(s[i], 1 / (1 + std::exp(-xv[i])), 1e-15);
  }
}

double std_of(const Tensor& t) {
  const std::vector<double> v = to_vector<double>(t.to(DType::f64));
  double m = 0, s = 0;
  for (double x : v) m += x;
  m /= v.size();
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / (v.size() - 1));
}

TEST(Init, FansAndGains) {
  const Tensor conv = zeros({8, 4, 3, 3});
  EXPECT_EQ(nn::init::fans(conv), (std::pair<int64_t, int64_t>{36, 72}));
  EXPECT_THROW(nn::init::fans(zeros({3})), Error);
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("relu"), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("leaky_relu", 0.2), std::sqrt(2.0 / 1.04));
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("tanh"), 5.0 / 3.0);
  EXPECT_THROW(nn::init::calculate_gain("swish"), Error);
}

TEST(Init, DistributionsHaveThePyTorchScale) {
  Generator gen(12);
  Tensor w = empty({256, 128}, DType::f32);
  nn::init::xavier_uniform_(w, gen);
  const double xavier_bound = std::sqrt(6.0 / 384);
  for (float v : to_vector<float>(w)) ASSERT_LE(std::abs(v), xavier_bound + 1e-7);
  EXPECT_NEAR(std_of(w), xavier_bound / std::sqrt(3.0), 0.02 * xavier_bound);
  nn::init::xavier_normal_(w, gen, 2.0);
  EXPECT_NEAR(std_of(w), 2.0 * std::sqrt(2.0 / 384), 0.02 * std::sqrt(2.0 / 384) * 2);
  nn::init::kaiming_normal_(w, gen, 0.0, nn::init::FanMode::fan_in, "relu");
  EXPECT_NEAR(std_of(w), std::sqrt(2.0 / 128), 0.02 * std::sqrt(2.0 / 128));
  nn::init::kaiming_uniform_(w, gen, 0.0, nn::init::FanMode::fan_out, "relu");
  EXPECT_NEAR(std_of(w), std::sqrt(2.0 / 256), 0.02 * std::sqrt(2.0 / 256));
  nn::init::normal_(w, 1.5, 0.1, gen);
  EXPECT_NEAR(std_of(w), 0.1, 0.003);
  nn::init::ones_(w);
  for (float v : to_vector<float>(w)) ASSERT_EQ(v, 1.0f);
  nn::init::zeros_(w);
  for (float v : to_vector<float>(w)) ASSERT_EQ(v, 0.0f);
}

void expect_orthonormal_rows_or_cols(const Tensor& w, double gain, double tol = 1e-10) {
  const int64_t rows = w.size(0), cols = w.numel() / rows;
  const std::vector<double> q = to_vector<double>(w.to(DType::f64).reshape({rows, cols}));
  const bool wide = rows < cols;  // wide: rows orthonormal; tall: columns orthonormal
  const int64_t n = wide ? rows : cols, m = wide ? cols : rows;
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = 0; b < n; ++b) {
      double dot = 0;
      for (int64_t k = 0; k < m; ++k)
        dot += wide ? q[a * cols + k] * q[b * cols + k] : q[k * cols + a] * q[k * cols + b];
      EXPECT_NEAR(dot, a == b ? gain * gain : 0.0, tol) << a << "," << b;
    }
}

TEST(Init, OrthogonalIsOrthogonal) {
  Generator gen(13);
  for (const Shape& s : {Shape{6, 4}, Shape{4, 6}, Shape{5, 5}, Shape{3, 2, 2, 2}}) {
    Tensor w = empty(s, DType::f64);
    nn::init::orthogonal_(w, gen, 1.5);
    expect_orthonormal_rows_or_cols(w, 1.5);
  }
  Tensor v = empty({4}, DType::f64);
  EXPECT_THROW(nn::init::orthogonal_(v, gen), Error);
}

TEST(Init, ParametersCanBeReinitialisedWhileRequiringGrad) {
  Generator gen(14);
  Linear layer(8, 8, true, gen);
  nn::init::orthogonal_(layer.weight(), gen);  // through the module's const handle
  const Tensor& w = layer.weight();
  EXPECT_TRUE(w.requires_grad());
  expect_orthonormal_rows_or_cols(w, 1.0, 1e-6);  // stored in float32
}

}  // namespace
}  // namespace gantry
