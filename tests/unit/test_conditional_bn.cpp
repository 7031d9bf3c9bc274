// Class-conditional batch norm: categorical (per-class gain/bias tables) and projected (BigGAN's
// 1 + Linear(c) gain, Linear(c) bias) against per-element loops, running and standing statistics,
// state-dict names, gradients of the input, the condition and every table/projection by finite
// differences, and bad input (class out of range, wrong channels or condition shape).
#include <cmath>
#include <vector>

#include "engine/nn/conditional_batch_norm.h"
#include "engine/nn/linear.h"
#include "engine/nn/spectral_norm.h"
#include "engine/ops/nn_ops.h"
#include "tests/support/error_matchers.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_util.h"

namespace gantry::testing {
namespace {

// bn(x)[n, c, ...] * scale[n][c] + shift[n][c] by loops, with batch (biased) statistics or the given ones.
Tensor naive_conditional_bn(const Tensor& x, const std::vector<double>& scale, const std::vector<double>& shift,
                            const std::vector<double>* mean_in = nullptr, const std::vector<double>* var_in = nullptr,
                            double eps = 1e-5) {
  std::vector<double> v = to_vector<double>(x);
  const int64_t n = x.shape()[0], c = x.shape()[1], s = x.numel() / (n * c);
  for (int64_t ch = 0; ch < c; ++ch) {
    double m = 0, var = 0;
    if (mean_in) {
      m = (*mean_in)[ch];
      var = (*var_in)[ch];
    } else {
      for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < s; ++k) m += v[(i * c + ch) * s + k] / static_cast<double>(n * s);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < s; ++k) var += std::pow(v[(i * c + ch) * s + k] - m, 2) / static_cast<double>(n * s);
    }
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < s; ++k) {
        double& e = v[(i * c + ch) * s + k];
        e = (e - m) / std::sqrt(var + eps) * scale[i * c + ch] + shift[i * c + ch];
      }
  }
  return from_vector(v, x.shape());
}

// Rows table[y[i]] of a row-major [K, C] table, flattened [N * C].
std::vector<double> rows(const Tensor& table, const std::vector<int64_t>& y) {
  const std::vector<double> t = to_vector<double>(table);
  const int64_t c = table.shape()[1];
  std::vector<double> out;
  for (int64_t cls : y)
    for (int64_t ch = 0; ch < c; ++ch) out.push_back(t[cls * c + ch]);
  return out;
}

class ConditionalBatchNormTest : public DeviceTest {
 protected:
  Tensor rand(const Shape& s, uint64_t seed, double lo = -1.0, double hi = 1.0) {
    return random_uniform(s, seed, lo, hi, DType::f64, device());
  }
  Tensor classes(const std::vector<int64_t>& y) {
    return from_vector(y, {static_cast<int64_t>(y.size())}).to(device());
  }
  // Random class tables so a swapped gain and bias, or a wrong row, cannot pass.
  void randomise(nn::CategoricalConditionalBatchNorm2d& cbn, uint64_t seed) {
    const int64_t k = cbn.num_classes(), c = cbn.num_features();
    cbn.load_state_dict({{"gain.weight", rand({k, c}, seed, 0.5, 1.5)}, {"bias.weight", rand({k, c}, seed + 1)}},
                        false);
  }
};

TEST_P(ConditionalBatchNormTest, CategoricalIsBatchNormThenTheClassRowsGainAndBias) {
  nn::CategoricalConditionalBatchNorm2d cbn(3, 4, {}, DType::f64, device());
  const Tensor x = add(mul(rand({4, 3, 2, 2}, 1), 2.0), 0.5);
  const std::vector<int64_t> y = {2, 0, 2, 3};
  // Initially gain 1 and bias 0: the plain normalisation.
  EXPECT_EQ(to_vector<double>(cbn.gain().weight()), std::vector<double>(12, 1.0));
  EXPECT_EQ(to_vector<double>(cbn.bias().weight()), std::vector<double>(12, 0.0));
  EXPECT_TRUE(all_close(cbn(x, classes(y)), batch_norm(x, Tensor(), Tensor()), 1e-12, 1e-12));
  randomise(cbn, 2);
  const Tensor out = cbn(x, classes(y));
  EXPECT_TRUE(all_close(out, naive_conditional_bn(x, rows(cbn.gain().weight(), y), rows(cbn.bias().weight(), y)), 1e-12,
                        1e-12));
  // The running statistics are BatchNorm2d's: two training forwards of momentum 0.1.
  EXPECT_EQ(cbn.bn().num_batches_tracked().item<int64_t>(), 2);
  const Tensor batch_mean = mean(x, {0, 2, 3});
  EXPECT_TRUE(all_close(cbn.bn().running_mean(), mul(batch_mean, 0.19), 1e-12, 1e-14));
  // Eval mode normalises with them.
  cbn.eval();
  const std::vector<double> rm = to_vector<double>(cbn.bn().running_mean()),
                            rv = to_vector<double>(cbn.bn().running_var());
  EXPECT_TRUE(all_close(cbn(x, classes(y)),
                        naive_conditional_bn(x, rows(cbn.gain().weight(), y), rows(cbn.bias().weight(), y), &rm, &rv),
                        1e-12, 1e-12));
}

TEST_P(ConditionalBatchNormTest, ProjectedIsBatchNormTimesOnePlusGainPlusBias) {
  for (const bool sn : {false, true}) {
    Generator gen(3);
    nn::ProjectedConditionalBatchNorm2d cbn(3, 5, gen, sn, {}, DType::f64, device());
    cbn.gain().eval();  // fixed u, v for the spectrally normalised projections
    cbn.bias().eval();
    const Tensor x = rand({4, 3, 3, 2}, 4), c = rand({4, 5}, 5);
    // The projections' effective weights: plain or divided by sigma.
    const auto effective = [&](nn::Module& m) {
      if (!sn) return dynamic_cast<nn::Linear&>(m).weight();
      auto& s = dynamic_cast<nn::SNLinear&>(m);
      return div(s.weight_orig(), s.sigma());
    };
    const Tensor scale = add(matmul(c, effective(cbn.gain()).t()), 1.0), shift = matmul(c, effective(cbn.bias()).t());
    EXPECT_TRUE(
        all_close(cbn(x, c), naive_conditional_bn(x, to_vector<double>(scale), to_vector<double>(shift)), 1e-12, 1e-12))
        << (sn ? "spectral norm" : "plain");
  }
}

TEST_P(ConditionalBatchNormTest, StateDictNamesAndShapes) {
  nn::CategoricalConditionalBatchNorm2d cat(6, 10, {}, DType::f32, device());
  EXPECT_EQ(names_of(cat.state_dict()),
            (std::vector<std::string>{"bn.running_mean", "bn.running_var", "bn.num_batches_tracked", "gain.weight",
                                      "bias.weight"}));
  EXPECT_EQ(cat.gain().weight().shape(), (Shape{10, 6}));
  EXPECT_EQ(cat.parameters().size(), 2u);  // the batch norm has no affine parameters
  Generator gen(4);
  nn::ProjectedConditionalBatchNorm2d plain(6, 8, gen, false, {}, DType::f32, device());
  EXPECT_EQ(names_of(plain.state_dict()),
            (std::vector<std::string>{"bn.running_mean", "bn.running_var", "bn.num_batches_tracked", "gain.weight",
                                      "bias.weight"}));
  EXPECT_EQ(plain.state_dict()[3].second.shape(), (Shape{6, 8}));
  nn::ProjectedConditionalBatchNorm2d sn(6, 8, gen, true, {}, DType::f32, device());
  EXPECT_EQ(names_of(sn.state_dict()),
            (std::vector<std::string>{"bn.running_mean", "bn.running_var", "bn.num_batches_tracked", "gain.weight_orig",
                                      "gain.weight_u", "gain.weight_v", "bias.weight_orig", "bias.weight_u",
                                      "bias.weight_v"}));
}

TEST_P(ConditionalBatchNormTest, GradientsMatchFiniteDifferences) {
  nn::CategoricalConditionalBatchNorm2d cat(2, 3, {}, DType::f64, device());
  randomise(cat, 10);
  const Tensor y = classes({1, 2, 1});  // class 1 twice: its rows gather two samples' gradients
  const Tensor x = rand({3, 2, 2, 2}, 11), w = rand({3, 2, 2, 2}, 12);
  EXPECT_TRUE(gradcheck([&](const TensorList& in) { return cat(in[0], y); }, {leaf(x)}));
  EXPECT_TRUE(gradgradcheck([&](const TensorList& in) { return cat(in[0], y); }, {leaf(x)}));
  EXPECT_TRUE(gradcheck_parameters([&] { return sum(mul(cat(x, y), w)); }, cat.parameters()));
  // Class 0 is unused: its rows get exactly zero gradient.
  sum(mul(cat(x, y), w)).backward();
  const std::vector<double> gg = to_vector<double>(cat.gain().weight().grad());
  EXPECT_EQ(gg[0], 0.0);
  EXPECT_EQ(gg[1], 0.0);
  EXPECT_NE(gg[2], 0.0);

  for (const bool sn : {false, true}) {
    Generator gen(13);
    nn::ProjectedConditionalBatchNorm2d proj(2, 3, gen, sn, {}, DType::f64, device());
    proj.gain().eval();  // u, v fixed between evaluations; the batch norm stays in training mode
    proj.bias().eval();
    const Tensor c = rand({3, 3}, 14);
    const auto fn = [&](const TensorList& in) { return proj(in[0], in[1]); };
    EXPECT_TRUE(gradcheck(fn, {leaf(x), leaf(c)})) << (sn ? "spectral norm" : "plain");
    EXPECT_TRUE(gradgradcheck(fn, {leaf(x), leaf(c)})) << (sn ? "spectral norm" : "plain");
    EXPECT_TRUE(gradcheck_parameters([&] { return sum(mul(proj(x, c), w)); }, proj.parameters()))
        << (sn ? "spectral norm" : "plain");
  }
}

TEST_P(ConditionalBatchNormTest, StandingStatisticsThroughTheBatchNormChild) {
  nn::CategoricalConditionalBatchNorm2d cbn(2, 3, {.momentum = std::nullopt}, DType::f64, device());
  const Tensor x1 = add(rand({3, 2, 2, 2}, 20), 2.0), x2 = mul(rand({4, 2, 3, 1}, 21), 3.0);
  cbn(rand({2, 2, 2, 2}, 22), classes({0, 1}));
  cbn.bn().reset_running_stats();  // forgets that batch
  cbn(x1, classes({0, 1, 2}));
  cbn(x2, classes({2, 2, 1, 0}));
  EXPECT_EQ(cbn.bn().num_batches_tracked().item<int64_t>(), 2);
  const Tensor expected_mean = mul(add(mean(x1, {0, 2, 3}), mean(x2, {0, 2, 3})), 0.5);
  const Tensor expected_var = mul(add(var(x1, {0, 2, 3}), var(x2, {0, 2, 3})), 0.5);  // unbiased, like torch
  EXPECT_TRUE(all_close(cbn.bn().running_mean(), expected_mean, 1e-12, 1e-14));
  EXPECT_TRUE(all_close(cbn.bn().running_var(), expected_var, 1e-12, 1e-14));
}

TEST_P(ConditionalBatchNormTest, BadInputsNameTheLayerAndShapes) {
  nn::CategoricalConditionalBatchNorm2d cbn(3, 5, {}, DType::f64, device());
  const Tensor x = rand({4, 3, 2, 2}, 30);
  const std::string layer = "CategoricalConditionalBatchNorm2d(3, num_classes=5)";
  EXPECT_TRUE(throws_error_mentioning([&] { cbn(x, classes({0, 5, 1, 2})); }, {layer, "[0, 5)", "index 5"}));
  EXPECT_TRUE(throws_error_mentioning([&] { cbn(x, classes({0, -1, 1, 2})); }, {layer, "[0, 5)", "-1"}));
  EXPECT_EQ(cbn.bn().num_batches_tracked().item<int64_t>(), 0);  // rejected before the statistics moved
  EXPECT_EQ(to_vector<double>(cbn.bn().running_mean()), std::vector<double>(3, 0.0));
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        cbn(rand({4, 2, 2, 2}, 31), classes({0, 1, 2, 3}));
      },
      {layer, "[N, 3, H, W]", "[4, 2, 2, 2]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { cbn(rand({4, 3, 2}, 32), classes({0, 1, 2, 3})); }, {layer, "[4, 3, 2]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { cbn(x, classes({0, 1, 2})); }, {layer, "[4]", "[3]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { cbn(x, rand({4}, 33)); }, {layer, "int64", "float64"}));
  Generator gen(5);
  nn::ProjectedConditionalBatchNorm2d proj(3, 6, gen, false, {}, DType::f64, device());
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        proj(x, rand({4, 5}, 34));
      },
      {"ProjectedConditionalBatchNorm2d(3, condition_dim=6)", "[4, 6]", "[4, 5]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { nn::CategoricalConditionalBatchNorm2d(3, 0); }, {"num_classes", "0"}));
}

GANTRY_INSTANTIATE_DEVICE_TEST(ConditionalBatchNormTest);

}  // namespace
}  // namespace gantry::testing
