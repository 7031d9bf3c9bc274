// batch_norm, layer_norm and embedding (ops and modules): forward against per-element loops, running
// statistics, gradients by finite differences, double backward, state-dict names and bad input.
#include <cmath>
#include <vector>

#include "engine/nn/embedding.h"
#include "engine/nn/norm.h"
#include "engine/ops/nn_ops.h"
#include "tests/support/error_matchers.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_util.h"

namespace gantry::testing {
namespace {

// Per-channel statistics of an [N, C, S] view of x by plain loops: mean, biased and unbiased variance.
struct ChannelStats {
  std::vector<double> mean, biased_var, unbiased_var;
};

ChannelStats channel_stats(const Tensor& x) {
  const std::vector<double> v = to_vector<double>(x.to(DType::f64));
  const int64_t n = x.shape()[0], c = x.shape()[1], s = x.numel() / (n * c);
  ChannelStats st;
  for (int64_t ch = 0; ch < c; ++ch) {
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < s; ++k) sum += v[(i * c + ch) * s + k];
    const double m = sum / static_cast<double>(n * s);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < s; ++k) sq += (v[(i * c + ch) * s + k] - m) * (v[(i * c + ch) * s + k] - m);
    st.mean.push_back(m);
    st.biased_var.push_back(sq / static_cast<double>(n * s));
    st.unbiased_var.push_back(sq / static_cast<double>(n * s - 1));
  }
  return st;
}

// (x - mean[c]) / sqrt(var[c] + eps) * w[c] + b[c] element by element.
Tensor naive_channel_affine(const Tensor& x, const std::vector<double>& mean, const std::vector<double>& var,
                            const std::vector<double>& w, const std::vector<double>& b, double eps) {
  std::vector<double> v = to_vector<double>(x.to(DType::f64));
  const int64_t n = x.shape()[0], c = x.shape()[1], s = x.numel() / (n * c);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t k = 0; k < s; ++k) {
        double& e = v[(i * c + ch) * s + k];
        e = (e - mean[ch]) / std::sqrt(var[ch] + eps) * w[ch] + b[ch];
      }
  return from_vector(v, x.shape());
}

class NormLayersTest : public DeviceTest {
 protected:
  Tensor rand(const Shape& s, uint64_t seed, double lo = -1.0, double hi = 1.0, DType dt = DType::f64) {
    return random_uniform(s, seed, lo, hi, dt, device());
  }
};

TEST_P(NormLayersTest, BatchNormTrainingUsesBatchStatsAndUpdatesRunningStats) {
  for (const Shape& shape : {Shape{4, 3, 5, 2}, Shape{6, 4}}) {
    const Tensor x = add(mul(rand(shape, 1), 2.0), 0.5);  // mean and variance away from 0 and 1
    const int64_t c = shape[1];
    const Tensor w = rand({c}, 2, 0.5, 1.5), b = rand({c}, 3);
    Tensor rm = rand({c}, 4), rv = rand({c}, 5, 0.5, 2.0);
    const std::vector<double> rm0 = to_vector<double>(rm), rv0 = to_vector<double>(rv);
    const double momentum = 0.3, eps = 1e-3;
    const Tensor y = batch_norm(x, rm, rv, w, b, true, momentum, eps);
    const ChannelStats st = channel_stats(x);
    EXPECT_TRUE(all_close(y, naive_channel_affine(x, st.mean, st.biased_var, to_vector<double>(w), to_vector<double>(b), eps),
                          1e-10, 1e-12))
        << shape_str(shape);
    const std::vector<double> rm1 = to_vector<double>(rm), rv1 = to_vector<double>(rv);
    for (int64_t ch = 0; ch < c; ++ch) {
      EXPECT_NEAR(rm1[ch], (1 - momentum) * rm0[ch] + momentum * st.mean[ch], 1e-12);
      EXPECT_NEAR(rv1[ch], (1 - momentum) * rv0[ch] + momentum * st.unbiased_var[ch], 1e-12);
    }
  }
}

TEST_P(NormLayersTest, BatchNormEvalUsesRunningStats) {
  const Tensor x = rand({3, 2, 4, 4}, 10);
  const Tensor rm = rand({2}, 11), rv = rand({2}, 12, 0.5, 2.0), w = rand({2}, 13), b = rand({2}, 14);
  const std::vector<double> rm0 = to_vector<double>(rm), rv0 = to_vector<double>(rv);
  const Tensor y = batch_norm(x, rm, rv, w, b, false, 0.1, 1e-5);
  EXPECT_TRUE(all_close(y, naive_channel_affine(x, rm0, rv0, to_vector<double>(w), to_vector<double>(b), 1e-5), 1e-12, 1e-12));
  EXPECT_EQ(to_vector<double>(rm), rm0);  // untouched in eval mode
  EXPECT_EQ(to_vector<double>(rv), rv0);
  // Without affine parameters.
  const std::vector<double> one(2, 1.0), zero(2, 0.0);
  EXPECT_TRUE(all_close(batch_norm(x, rm, rv, Tensor(), Tensor(), false), naive_channel_affine(x, rm0, rv0, one, zero, 1e-5),
                        1e-12, 1e-12));
}

TEST_P(NormLayersTest, BatchNormGradientsAndDoubleBackward) {
  const Tensor x = leaf(rand({3, 2, 3, 2}, 20)), w = leaf(rand({2}, 21, 0.5, 1.5)), b = leaf(rand({2}, 22));
  const auto train = [](const TensorList& in) { return batch_norm(in[0], Tensor(), Tensor(), in[1], in[2], true); };
  EXPECT_TRUE(gradcheck(train, {x, w, b}));
  EXPECT_TRUE(gradgradcheck(train, {x, w, b}));
  const Tensor rm = rand({2}, 23), rv = rand({2}, 24, 0.5, 2.0);
  const auto eval = [&](const TensorList& in) { return batch_norm(in[0], rm, rv, in[1], in[2], false); };
  EXPECT_TRUE(gradcheck(eval, {x, w, b}));
}

TEST_P(NormLayersTest, BatchNormGradientsAreTheSameWithAndWithoutCreateGraph) {
  // Training-mode batch_norm has a fused backward and, for create_graph, one written in differentiable
  // ops; gradcheck covers the first and gradgradcheck differentiates the second, so this ties the two
  // together. With and without the affine parameters, in float64 and float32.
  for (DType dt : {DType::f64, DType::f32})
    for (bool affine : {true, false}) {
      const Tensor x = leaf(random_uniform({4, 3, 5, 2}, 25, -1.0, 2.0, dt, device()));
      const Tensor w = affine ? leaf(random_uniform({3}, 26, 0.5, 1.5, dt, device())) : Tensor();
      const Tensor b = affine ? leaf(random_uniform({3}, 27, -1.0, 1.0, dt, device())) : Tensor();
      const Tensor g = random_uniform({4, 3, 5, 2}, 28, -1.0, 1.0, dt, device());
      TensorList inputs{x};
      if (affine) inputs.insert(inputs.end(), {w, b});
      const auto grads = [&](bool create_graph) {
        const Tensor y = batch_norm(x, Tensor(), Tensor(), w, b, true);
        return autograd::grad({y}, inputs, {g}, create_graph);
      };
      const TensorList fused = grads(false), differentiable = grads(true);
      const double tol = dt == DType::f64 ? 1e-12 : 1e-5;
      for (size_t i = 0; i < inputs.size(); ++i)
        EXPECT_TRUE(all_close(differentiable[i].detach(), fused[i], tol, tol))
            << "input " << i << " " << dtype_name(dt) << (affine ? " affine" : "");
    }
}

TEST_P(NormLayersTest, LayerNormMatchesNaiveOverTrailingDims) {
  const Tensor x = add(mul(rand({3, 4, 5}, 30), 3.0), -1.0);
  const Tensor w = rand({4, 5}, 31), b = rand({4, 5}, 32);
  const Tensor y = layer_norm(x, {4, 5}, w, b, 1e-4);
  // Each row of 20 normalised by its own statistics: the same as batch-norm statistics of x^T.
  const std::vector<double> vx = to_vector<double>(x), vw = to_vector<double>(w), vb = to_vector<double>(b);
  std::vector<double> expected(vx.size());
  for (int64_t r = 0; r < 3; ++r) {
    double m = 0, var = 0;
    for (int64_t k = 0; k < 20; ++k) m += vx[r * 20 + k] / 20.0;
    for (int64_t k = 0; k < 20; ++k) var += (vx[r * 20 + k] - m) * (vx[r * 20 + k] - m) / 20.0;
    for (int64_t k = 0; k < 20; ++k) expected[r * 20 + k] = (vx[r * 20 + k] - m) / std::sqrt(var + 1e-4) * vw[k] + vb[k];
  }
  EXPECT_TRUE(all_close(y, from_vector(expected, {3, 4, 5}), 1e-12, 1e-12));
  // Over the last dim only, without affine parameters.
  const Tensor y1 = layer_norm(x, {5});
  EXPECT_TRUE(all_close(mean(y1, {2}), zeros({3, 4}, DType::f64), 0, 1e-12));
  EXPECT_TRUE(all_close(mean(mul(y1, y1), {2}), full({3, 4}, 1.0, DType::f64), 1e-4, 1e-4));
}

TEST_P(NormLayersTest, LayerNormGradientsAndDoubleBackward) {
  const Tensor x = leaf(rand({2, 3, 4}, 40)), w = leaf(rand({3, 4}, 41)), b = leaf(rand({3, 4}, 42));
  const auto fn = [](const TensorList& in) { return layer_norm(in[0], {3, 4}, in[1], in[2]); };
  EXPECT_TRUE(gradcheck(fn, {x, w, b}));
  EXPECT_TRUE(gradgradcheck(fn, {x, w, b}));
}

TEST_P(NormLayersTest, EmbeddingLooksUpRowsAndAddsGradientsOfRepeats) {
  const Tensor weight = leaf(rand({5, 3}, 50));
  const Tensor idx = from_vector(std::vector<int64_t>{4, 0, 4, 2, 1, 4}, {2, 3}).to(device());
  const Tensor out = embedding(idx, weight);
  ASSERT_EQ(out.shape(), (Shape{2, 3, 3}));
  const std::vector<double> vw = to_vector<double>(weight), vo = to_vector<double>(out);
  const std::vector<int64_t> vi = {4, 0, 4, 2, 1, 4};
  for (size_t p = 0; p < vi.size(); ++p)
    for (int64_t d = 0; d < 3; ++d) EXPECT_EQ(vo[p * 3 + d], vw[vi[p] * 3 + d]);
  const Tensor g = rand({2, 3, 3}, 51);
  out.backward(g);
  const std::vector<double> vg = to_vector<double>(g), gw = to_vector<double>(weight.grad());
  for (int64_t row = 0; row < 5; ++row)
    for (int64_t d = 0; d < 3; ++d) {
      double expected = 0;
      for (size_t p = 0; p < vi.size(); ++p)
        if (vi[p] == row) expected += vg[p * 3 + d];
      EXPECT_NEAR(gw[row * 3 + d], expected, 1e-12) << "row " << row;
    }
  EXPECT_TRUE(gradcheck([&](const TensorList& in) { return embedding(idx, in[0]); }, {leaf(rand({5, 3}, 52))}));
}

TEST_P(NormLayersTest, BatchNorm2dModuleFollowsTorchNamesAndModes) {
  nn::BatchNorm2d bn(3, {}, DType::f64, device());
  std::vector<std::string> names;
  for (const auto& [name, t] : bn.state_dict()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}));
  EXPECT_EQ(bn.parameters().size(), 2u);
  const Tensor x = add(rand({4, 3, 2, 3}, 60), 1.0);
  const ChannelStats st = channel_stats(x);
  bn.forward(x);
  bn.forward(x);
  EXPECT_EQ(bn.num_batches_tracked().item<int64_t>(), 2);
  const std::vector<double> rm = to_vector<double>(bn.running_mean()), rv = to_vector<double>(bn.running_var());
  for (int64_t c = 0; c < 3; ++c) {  // two updates of 0.1 from (0, 1)
    EXPECT_NEAR(rm[c], 0.19 * st.mean[c], 1e-12);
    EXPECT_NEAR(rv[c], 0.81 + 0.19 * st.unbiased_var[c], 1e-12);
  }
  bn.eval();
  const std::vector<double> one(3, 1.0), zero(3, 0.0);
  EXPECT_TRUE(all_close(bn.forward(x), naive_channel_affine(x, rm, rv, one, zero, 1e-5), 1e-12, 1e-12));
  EXPECT_EQ(bn.num_batches_tracked().item<int64_t>(), 2);
  EXPECT_TRUE(throws_error_mentioning([&] { bn.forward(rand({4, 2, 2, 3}, 61)); }, {"BatchNorm2d(3)", "[4, 2, 2, 3]"}));
}

TEST_P(NormLayersTest, BatchNorm2dCumulativeAverageGivesStandingStatistics) {
  nn::BatchNorm2d bn(2, {.momentum = std::nullopt}, DType::f64, device());
  const Tensor x1 = add(rand({3, 2, 2, 2}, 90), 2.0), x2 = mul(rand({5, 2, 3, 1}, 91), 3.0);
  const Tensor x3 = rand({2, 2, 2, 2}, 92);
  bn.forward(x3);
  bn.reset_running_stats();  // forgets x3
  EXPECT_EQ(bn.num_batches_tracked().item<int64_t>(), 0);
  bn.forward(x1);
  bn.forward(x2);
  const ChannelStats s1 = channel_stats(x1), s2 = channel_stats(x2);
  const std::vector<double> rm = to_vector<double>(bn.running_mean()), rv = to_vector<double>(bn.running_var());
  for (int64_t c = 0; c < 2; ++c) {  // the plain average over the batches seen since the reset
    EXPECT_NEAR(rm[c], (s1.mean[c] + s2.mean[c]) / 2, 1e-12);
    EXPECT_NEAR(rv[c], (s1.unbiased_var[c] + s2.unbiased_var[c]) / 2, 1e-12);
  }
}

TEST_P(NormLayersTest, BatchNorm1dNormalisesFeatureColumns) {
  nn::BatchNorm1d bn(4, {.momentum = 0.5}, DType::f64, device());
  const Tensor x = add(mul(rand({6, 4}, 95), 2.0), 1.0);
  const ChannelStats st = channel_stats(x);
  const std::vector<double> one(4, 1.0), zero(4, 0.0);
  EXPECT_TRUE(all_close(bn.forward(x), naive_channel_affine(x, st.mean, st.biased_var, one, zero, 1e-5), 1e-12, 1e-12));
  const std::vector<double> rm = to_vector<double>(bn.running_mean());
  for (int64_t c = 0; c < 4; ++c) EXPECT_NEAR(rm[c], 0.5 * st.mean[c], 1e-12);
  EXPECT_TRUE(throws_error_mentioning([&] { bn.forward(rand({6, 4, 2, 2}, 96)); }, {"BatchNorm1d(4)", "[6, 4, 2, 2]"}));
}

TEST_P(NormLayersTest, LayerNormAndEmbeddingModules) {
  nn::LayerNorm ln({4, 2}, 1e-5, true, DType::f64, device());
  ASSERT_EQ(ln.named_parameters().size(), 2u);
  EXPECT_EQ(ln.named_parameters()[0].first, "weight");
  EXPECT_EQ(ln.weight().shape(), (Shape{4, 2}));
  const Tensor x = rand({3, 4, 2}, 70);
  EXPECT_TRUE(all_close(ln.forward(x), layer_norm(x, {4, 2}), 1e-12, 1e-12));

  Generator gen(7);
  nn::Embedding emb(10, 4, gen, DType::f64, device());
  EXPECT_EQ(emb.named_parameters()[0].first, "weight");
  const std::vector<double> w = to_vector<double>(emb.weight());
  double m = 0;
  for (double v : w) m += v / static_cast<double>(w.size());
  EXPECT_LT(std::abs(m), 1.0);  // N(0, 1) entries, not a constant fill
  EXPECT_NE(w[0], w[1]);
  const Tensor idx = from_vector(std::vector<int64_t>{3, 9}, {2}).to(device());
  EXPECT_TRUE(all_close(emb.forward(idx), index_select(emb.weight(), 0, idx), 0, 0));
}

TEST_P(NormLayersTest, BadInputsNameTheOpAndShapes) {
  const Tensor x = rand({4, 3, 2, 2}, 80);
  EXPECT_TRUE(throws_error_mentioning([&] { batch_norm(x, Tensor(), Tensor(), rand({2}, 81)); }, {"batch_norm", "weight", "[3]", "[2]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { batch_norm(rand({1, 3}, 82), Tensor(), Tensor()); },
                                      {"batch_norm", "more than 1 value per channel"}));
  EXPECT_TRUE(throws_error_mentioning([&] { batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false); },
                                      {"batch_norm", "running"}));
  EXPECT_TRUE(throws_error_mentioning([&] { layer_norm(x, {3, 3}); }, {"layer_norm", "[4, 3, 2, 2]", "[3, 3]"}));
  const Tensor w = rand({5, 2}, 83);
  EXPECT_TRUE(throws_error_mentioning([&] { embedding(from_vector(std::vector<int64_t>{1, 5}, {2}).to(device()), w); },
                                      {"5"}));
  EXPECT_TRUE(throws_error_mentioning([&] { embedding(x, w); }, {"embedding", "int64"}));
}

GANTRY_INSTANTIATE_DEVICE_TEST(NormLayersTest);

}  // namespace
}  // namespace gantry::testing
