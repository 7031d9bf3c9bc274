// Dot-product attention and the SAGAN self-attention block: values against naive host loops in
// float64 (several query blocks, strided operands, large logits), the kernel contract on a poisoned
// output, gradients and double backward by finite differences (the op's q, k, v; the block's input and
// every parameter, gamma included), swappable projections, and bad input.
#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "engine/dispatch/attention_kernels.h"
#include "engine/dispatch/conv_kernels.h"
#include "engine/dispatch/pool_kernels.h"
#include "engine/nn/conv.h"
#include "engine/nn/self_attention.h"
#include "engine/ops/nn_ops.h"
#include "tests/support/error_matchers.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_util.h"

namespace gantry::testing {
namespace {

// softmax(scale q k^T) v by loops over host doubles, the maximum subtracted in long double.
Tensor naive_attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  const auto qv = to_vector<double>(q.to(DType::f64)), kv = to_vector<double>(k.to(DType::f64)),
             vv = to_vector<double>(v.to(DType::f64));
  const int64_t b = q.shape()[0], lq = q.shape()[1], d = q.shape()[2], lk = k.shape()[1], dv = v.shape()[2];
  std::vector<double> out(static_cast<size_t>(b * lq * dv));
  std::vector<long double> s(static_cast<size_t>(lk));
  for (int64_t n = 0; n < b; ++n)
    for (int64_t i = 0; i < lq; ++i) {
      long double m = -std::numeric_limits<long double>::infinity();
      for (int64_t j = 0; j < lk; ++j) {
        long double dot = 0;
        for (int64_t c = 0; c < d; ++c)
          dot += static_cast<long double>(qv[(n * lq + i) * d + c]) * kv[(n * lk + j) * d + c];
        s[j] = scale * dot;
        m = std::max(m, s[j]);
      }
      long double total = 0;
      for (int64_t j = 0; j < lk; ++j) total += std::exp(s[j] - m);
      for (int64_t c = 0; c < dv; ++c) {
        long double acc = 0;
        for (int64_t j = 0; j < lk; ++j) acc += std::exp(s[j] - m) * vv[(n * lk + j) * dv + c];
        out[(n * lq + i) * dv + c] = static_cast<double>(acc / total);
      }
    }
  return from_vector(out, {b, lq, dv});
}

class AttentionTest : public DeviceTest {
 protected:
  Tensor rand(const Shape& s, uint64_t seed, DType dt = DType::f64, double lo = -1.0, double hi = 1.0) {
    return random_uniform(s, seed, lo, hi, dt, device());
  }
};

struct AttentionCase {
  int64_t b, lq, lk, d, dv;
  double scale;
};

TEST_P(AttentionTest, MatchesNaiveLoops) {
  const std::vector<AttentionCase> cases = {
      {2, 5, 7, 3, 4, 1.0},     {3, 1, 1, 2, 3, 0.37},  // one key: the output is v
      {2, 500, 300, 4, 3, 1.0},                         // several blocks of queries on the CPU kernel
      {1, 9, 4, 6, 1, -2.0},                            // a negative scale is still a softmax
      {2, 3, 5, 0, 2, 1.0},                             // empty dot products: uniform weights, the mean of v
  };
  uint64_t seed = 1;
  for (const AttentionCase& c : cases)
    for (DType dt : {DType::f64, DType::f32}) {
      const Tensor q = rand({c.b, c.lq, c.d}, seed++, dt, -2, 2), k = rand({c.b, c.lk, c.d}, seed++, dt, -2, 2);
      const Tensor v = rand({c.b, c.lk, c.dv}, seed++, dt);
      const double tol = dt == DType::f64 ? 1e-12 : 1e-5;
      EXPECT_TRUE(all_close(attention(q, k, v, c.scale), naive_attention(q, k, v, c.scale), tol, tol))
          << "q " << shape_str(q.shape()) << " k " << shape_str(k.shape()) << " scale " << c.scale << " "
          << dtype_name(dt);
    }
  // The default scale is 1 (SAGAN's), not 1/sqrt(D).
  const Tensor q = rand({2, 4, 8}, 40), k = rand({2, 6, 8}, 41), v = rand({2, 6, 5}, 42);
  EXPECT_TRUE(all_close(attention(q, k, v), naive_attention(q, k, v, 1.0), 1e-12, 1e-12));
}

TEST_P(AttentionTest, AcceptsStridedOperands) {
  // Transposed views, as the self-attention block passes them.
  const Tensor q = rand({2, 3, 6}, 50).transpose(1, 2), k = rand({2, 3, 4}, 51).transpose(1, 2);
  const Tensor v = rand({2, 5, 4}, 52).transpose(1, 2);
  ASSERT_FALSE(q.is_contiguous());
  EXPECT_TRUE(all_close(attention(q, k, v, 0.5), naive_attention(q, k, v, 0.5), 1e-12, 1e-12));
  // A broadcast (stride 0) key batch.
  const Tensor kb = rand({1, 4, 3}, 53).expand({2, 4, 3}), vb = rand({2, 4, 2}, 54);
  EXPECT_TRUE(all_close(attention(q, kb, vb), naive_attention(q, kb, vb, 1.0), 1e-12, 1e-12));
}

TEST_P(AttentionTest, IsStableForLargeLogits) {
  // Logits around +-1000 overflow a naive exp; the result must stay finite and match.
  const Tensor q = rand({2, 4, 3}, 60, DType::f64, 20, 25), k = rand({2, 5, 3}, 61, DType::f64, -20, 20);
  const Tensor v = rand({2, 5, 2}, 62);
  EXPECT_TRUE(all_close(attention(q, k, v, 3.0), naive_attention(q, k, v, 3.0), 1e-10, 1e-12));
  const auto f = to_vector<double>(attention(q.to(DType::f32), k.to(DType::f32), v.to(DType::f32), 3.0));
  for (double e : f) EXPECT_TRUE(std::isfinite(e));
}

TEST_P(AttentionTest, EmptyBatchesAndQueriesGiveEmptyOutputs) {
  EXPECT_EQ(attention(rand({0, 3, 2}, 70), rand({0, 4, 2}, 71), rand({0, 4, 5}, 72)).shape(), (Shape{0, 3, 5}));
  EXPECT_EQ(attention(rand({2, 0, 2}, 73), rand({2, 4, 2}, 74), rand({2, 4, 5}, 75)).shape(), (Shape{2, 0, 5}));
}

TEST_P(AttentionTest, KernelOverwritesAPoisonedOutput) {
  if (!attention_kernel.has(device().type))
    GTEST_SKIP() << "no " << device().str() << " attention kernel is registered (the op runs matmul + softmax)";
  for (DType dt : {DType::f64, DType::f32}) {
    const Tensor q = rand({3, 70, 5}, 80, dt), k = rand({3, 1100, 5}, 81, dt), v = rand({3, 1100, 7}, 82, dt);
    Tensor out = full({3, 70, 7}, std::nan(""), dt, device());
    attention_kernel(device().type, out, q, k, v, 0.8);
    const double tol = dt == DType::f64 ? 1e-12 : 1e-5;
    EXPECT_TRUE(all_close(out, naive_attention(q, k, v, 0.8), tol, tol)) << dtype_name(dt);
  }
}

TEST_P(AttentionTest, GradientsMatchFiniteDifferences) {
  for (double scale : {1.0, 0.45}) {
    const Tensor q = leaf(rand({2, 4, 3}, 90)), k = leaf(rand({2, 5, 3}, 91)), v = leaf(rand({2, 5, 2}, 92));
    EXPECT_TRUE(gradcheck([scale](const TensorList& in) { return attention(in[0], in[1], in[2], scale); }, {q, k, v}))
        << "scale " << scale;
  }
  // Only some operands requiring grad.
  const Tensor q = leaf(rand({1, 3, 2}, 93)), k = rand({1, 4, 2}, 94), v = leaf(rand({1, 4, 3}, 95));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return attention(in[0], in[1], in[2]); }, {q, k, v}));
}

TEST_P(AttentionTest, DoubleBackwardMatchesFiniteDifferences) {
  for (double scale : {1.0, 0.6}) {
    const Tensor q = leaf(rand({2, 3, 2}, 100)), k = leaf(rand({2, 4, 2}, 101)), v = leaf(rand({2, 4, 3}, 102));
    EXPECT_TRUE(
        gradgradcheck([scale](const TensorList& in) { return attention(in[0], in[1], in[2], scale); }, {q, k, v}))
        << "scale " << scale;
  }
}

TEST_P(AttentionTest, BadInputsNameTheOpAndShapes) {
  const Tensor q = rand({2, 4, 3}, 110), k = rand({2, 5, 3}, 111), v = rand({2, 5, 6}, 112);
  EXPECT_TRUE(throws_error_mentioning([&] { attention(q.reshape({8, 3}), k, v); }, {"attention", "3-D", "q [8, 3]"}));
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        attention(q, rand({3, 5, 3}, 113), rand({3, 5, 6}, 114));
      },
      {"attention", "batch", "q [2, 4, 3], k [3, 5, 3], v [3, 5, 6]"}));
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        attention(q, rand({2, 5, 4}, 115), v);
      },
      {"attention", "feature sizes", "3 vs 4", "k [2, 5, 4]"}));
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        attention(q, k, rand({2, 6, 6}, 116));
      },
      {"attention", "numbers of keys", "5 vs 6", "v [2, 6, 6]"}));
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        attention(q, rand({2, 0, 3}, 117), rand({2, 0, 6}, 118));
      },
      {"attention", "no keys", "k [2, 0, 3]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { attention(q, k.to(DType::f32), v); }, {"attention", "dtype", "float32"}));
  EXPECT_TRUE(throws_error_mentioning([&] { attention(q, k, v, std::numeric_limits<double>::infinity()); },
                                      {"attention", "scale"}));
  const Tensor qi = arange(0, 24, 1, DType::i64, device()).reshape({2, 4, 3});
  const Tensor ki = arange(0, 30, 1, DType::i64, device()).reshape({2, 5, 3});
  EXPECT_TRUE(throws_error_mentioning([&] { attention(qi, ki, ki); }, {"attention", "floating", "int64"}));
}

GANTRY_INSTANTIATE_DEVICE_TEST(AttentionTest);

// ---- the SAGAN self-attention block -----------------------------------------------------------

// Host copies of the block's parameters and a naive forward pass: 1x1 convolutions, 2x2 max pooling
// and attention as loops over doubles, laid out like BigGAN's Attention.forward.
struct NaiveSelfAttention {
  explicit NaiveSelfAttention(const nn::SelfAttention& m) : c(m.channels()) {
    for (const auto& [name, t] : m.named_parameters()) params[name] = to_vector<double>(t.to(DType::f64));
  }

  // w [cout, cin] applied at every position of x [n, cin, hw].
  static std::vector<double> conv1x1(const std::vector<double>& x, int64_t n, int64_t cin, int64_t hw,
                                     const std::vector<double>& w, int64_t cout) {
    std::vector<double> y(static_cast<size_t>(n * cout * hw), 0.0);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t o = 0; o < cout; ++o)
        for (int64_t i = 0; i < cin; ++i)
          for (int64_t p = 0; p < hw; ++p) y[(b * cout + o) * hw + p] += w[o * cin + i] * x[(b * cin + i) * hw + p];
    return y;
  }

  static std::vector<double> max_pool2x2(const std::vector<double>& x, int64_t planes, int64_t h, int64_t w) {
    std::vector<double> y;
    for (int64_t pl = 0; pl < planes; ++pl)
      for (int64_t i = 0; i < h / 2; ++i)
        for (int64_t j = 0; j < w / 2; ++j) {
          const double* base = x.data() + pl * h * w;
          y.push_back(std::max(std::max(base[2 * i * w + 2 * j], base[2 * i * w + 2 * j + 1]),
                               std::max(base[(2 * i + 1) * w + 2 * j], base[(2 * i + 1) * w + 2 * j + 1])));
        }
    return y;
  }

  Tensor forward(const Tensor& x_in) const {
    const auto x = to_vector<double>(x_in.to(DType::f64));
    const int64_t n = x_in.shape()[0], h = x_in.shape()[2], w = x_in.shape()[3], hw = h * w, m = hw / 4;
    const int64_t c8 = c / 8, c2 = c / 2;
    const auto theta = conv1x1(x, n, c, hw, params.at("theta.weight"), c8);                         // [n, c8, hw]
    const auto phi = max_pool2x2(conv1x1(x, n, c, hw, params.at("phi.weight"), c8), n * c8, h, w);  // [n, c8, m]
    const auto g = max_pool2x2(conv1x1(x, n, c, hw, params.at("g.weight"), c2), n * c2, h, w);      // [n, c2, m]
    // attended[b, ch, p] = sum_j beta[b, p, j] g[b, ch, j], beta = softmax_j(sum_c theta[b, c, p] phi[b, c, j]).
    std::vector<double> attended(static_cast<size_t>(n * c2 * hw));
    for (int64_t b = 0; b < n; ++b)
      for (int64_t p = 0; p < hw; ++p) {
        std::vector<double> s(static_cast<size_t>(m));
        double mx = -std::numeric_limits<double>::infinity(), total = 0;
        for (int64_t j = 0; j < m; ++j) {
          for (int64_t ch = 0; ch < c8; ++ch) s[j] += theta[(b * c8 + ch) * hw + p] * phi[(b * c8 + ch) * m + j];
          mx = std::max(mx, s[j]);
        }
        for (double& e : s) total += (e = std::exp(e - mx));
        for (int64_t ch = 0; ch < c2; ++ch) {
          double acc = 0;
          for (int64_t j = 0; j < m; ++j) acc += s[j] / total * g[(b * c2 + ch) * m + j];
          attended[(b * c2 + ch) * hw + p] = acc;
        }
      }
    const auto o = conv1x1(attended, n, c2, hw, params.at("o.weight"), c);
    const double gamma = params.at("gamma")[0];
    std::vector<double> out(x.size());
    for (size_t i = 0; i < x.size(); ++i) out[i] = x[i] + gamma * o[i];
    return from_vector(out, x_in.shape());
  }

  int64_t c;
  std::map<std::string, std::vector<double>> params;
};

// Central differences of L = sum(module(x) * w) w.r.t. x and every parameter of the module, element by
// element in place, against autograd: |analytic - numeric| <= atol + rtol |numeric|.
::testing::AssertionResult module_gradcheck(nn::Module& m, const Tensor& x_in, double eps = 1e-6, double rtol = 1e-3,
                                            double atol = 1e-5) {
  const Tensor x = leaf(x_in);
  const Tensor out = m.forward(x);
  const Tensor w = random_uniform(out.shape(), 4321, -1.5, 1.5, DType::f64, x.device());
  nn::NamedTensors targets = m.named_parameters();
  targets.emplace_back("input", x);
  TensorList wrt;
  for (const auto& [name, t] : targets) wrt.push_back(t);
  const TensorList analytic = autograd::grad({sum(mul(out, w))}, wrt, {}, false, -1, true);
  const auto loss = [&] {
    NoGradGuard no_grad;
    return sum(mul(m.forward(x), w)).item<double>();
  };
  std::ostringstream failures;
  int n_fail = 0;
  for (size_t t = 0; t < targets.size(); ++t) {
    const std::string& name = targets[t].first;
    Tensor& tensor = targets[t].second;  // a plain reference: lambdas below capture it
    const std::vector<double> a = analytic[t].defined() ? to_vector<double>(analytic[t])
                                                        : std::vector<double>(static_cast<size_t>(tensor.numel()), 0.0);
    std::vector<double> values = to_vector<double>(tensor);
    const auto set = [&](const std::vector<double>& v) {
      NoGradGuard no_grad;
      copy_(tensor, from_vector(v, tensor.shape()).to(tensor.device()));
    };
    for (size_t j = 0; j < values.size(); ++j) {
      const double saved = values[j];
      values[j] = saved + eps;
      set(values);
      const double plus = loss();
      values[j] = saved - eps;
      set(values);
      const double minus = loss();
      values[j] = saved;
      const double numeric = (plus - minus) / (2 * eps);
      if (!(std::abs(a[j] - numeric) <= atol + rtol * std::abs(numeric)) && n_fail++ < 8)
        failures << "\n  " << name << " element " << j << ": analytic " << a[j] << ", numeric " << numeric;
    }
    set(values);
  }
  if (n_fail == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << n_fail << " gradient elements differ from finite differences"
                                       << failures.str();
}

class SelfAttentionTest : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped()) return;
    if (device().is_cuda() &&
        (!conv2d_forward_kernel.has(DeviceType::CUDA) || !max_pool2d_kernel.has(DeviceType::CUDA)))
      GTEST_SKIP() << "no CUDA convolution or pooling kernels are registered (the block needs both)";
  }
  Tensor rand(const Shape& s, uint64_t seed, DType dt = DType::f64) {
    return random_uniform(s, seed, -1.0, 1.0, dt, device());
  }
  // A float64 block on the device with a non-zero gamma (at 0 the block is the identity and hides
  // every attention gradient but gamma's).
  std::shared_ptr<nn::SelfAttention> block(int64_t channels, double gamma, uint64_t seed = 7) {
    Generator gen(seed);
    auto m = std::make_shared<nn::SelfAttention>(channels, gen, DType::f64, device());
    NoGradGuard no_grad;
    Tensor g = m->gamma();  // a handle on the parameter's storage
    fill_(g, gamma);
    return m;
  }
};

TEST_P(SelfAttentionTest, HasTorchStateDictNamesShapesAndStartsAsTheIdentity) {
  Generator gen(3);
  nn::SelfAttention m(16, gen, DType::f32, device());
  const nn::StateDict state = m.state_dict();
  const std::vector<std::pair<std::string, Shape>> expected = {{"gamma", {}},
                                                               {"theta.weight", {2, 16, 1, 1}},
                                                               {"phi.weight", {2, 16, 1, 1}},
                                                               {"g.weight", {8, 16, 1, 1}},
                                                               {"o.weight", {16, 8, 1, 1}}};
  ASSERT_EQ(state.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(state[i].first, expected[i].first);
    EXPECT_EQ(state[i].second.shape(), expected[i].second) << expected[i].first;
  }
  EXPECT_EQ(m.gamma().item<float>(), 0.0f);
  const Tensor x = rand({2, 16, 4, 6}, 1, DType::f32);
  EXPECT_TRUE(all_close(m.forward(x), x, 0, 0));
}

TEST_P(SelfAttentionTest, ForwardMatchesNaiveLoops) {
  for (Shape s : {Shape{2, 16, 4, 6}, Shape{1, 8, 2, 2}, Shape{3, 24, 6, 4}}) {
    const auto m = block(s[1], 0.7, 11 + s[1]);
    const Tensor x = rand(s, 20 + s[1]);
    EXPECT_TRUE(all_close(m->forward(x), NaiveSelfAttention(*m).forward(x), 1e-12, 1e-12)) << shape_str(s);
  }
  // float32.
  Generator gen(5);
  nn::SelfAttention m(16, gen, DType::f32, device());
  {
    NoGradGuard no_grad;
    Tensor g = m.gamma();
    fill_(g, -1.3);
  }
  const Tensor x = rand({2, 16, 4, 4}, 30, DType::f32);
  EXPECT_TRUE(all_close(m.forward(x), NaiveSelfAttention(m).forward(x), 1e-5, 1e-5));
}

TEST_P(SelfAttentionTest, GradientsOfInputAndEveryParameterMatchFiniteDifferences) {
  const auto m = block(16, 0.7);
  // Larger weights than the default init so the attention weights are far from uniform.
  {
    NoGradGuard no_grad;
    for (auto& [name, p] : m->named_parameters())
      if (name != "gamma") copy_(p, mul(p, 4.0));
  }
  EXPECT_TRUE(module_gradcheck(*m, rand({2, 16, 4, 6}, 40)));
}

TEST_P(SelfAttentionTest, InputDoubleBackwardMatchesFiniteDifferences) {
  // A WGAN-GP penalty through a critic with attention needs d/dx of the input gradient.
  const auto m = block(8, 0.9, 13);
  EXPECT_TRUE(gradgradcheck([&](const TensorList& in) { return m->forward(in[0]); }, {leaf(rand({1, 8, 4, 4}, 50))}));
}

// A projection of a test's own: a Conv2d child named "conv" whose output is scaled by 2.
class ScaledProjection : public nn::Module {
 public:
  ScaledProjection(int64_t in, int64_t out, Generator& gen, Device device)
      : conv_(register_module("conv",
                              std::make_shared<nn::Conv2d>(in, out, Size2{1, 1}, gen, nn::Conv2dOptions{.bias = false},
                                                           DType::f64, device))) {}
  Tensor forward(const Tensor& x) override { return mul(conv_->forward(x), 2.0); }

 private:
  std::shared_ptr<nn::Conv2d> conv_;
};

TEST_P(SelfAttentionTest, ProjectionsComeFromTheFactory) {
  Generator gen(17);
  std::vector<std::pair<int64_t, int64_t>> calls;
  const nn::ProjectionFactory factory = [&](int64_t in, int64_t out) -> std::shared_ptr<nn::Module> {
    calls.emplace_back(in, out);
    return std::make_shared<ScaledProjection>(in, out, gen, device());
  };
  nn::SelfAttention m(16, factory, DType::f64, device());
  EXPECT_EQ(calls, (std::vector<std::pair<int64_t, int64_t>>{{16, 2}, {16, 2}, {16, 8}, {8, 16}}));
  std::vector<std::string> names;
  for (const auto& [name, t] : m.state_dict()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"gamma", "theta.conv.weight", "phi.conv.weight", "g.conv.weight",
                                             "o.conv.weight"}));
  {
    NoGradGuard no_grad;
    Tensor g = m.gamma();
    fill_(g, 0.5);
  }
  // Scaling every projection by 2 equals plain convolutions with doubled weights.
  auto plain = block(16, 0.5);
  nn::StateDict doubled;
  for (const auto& [name, t] : m.state_dict()) {
    std::string plain_name = name;
    if (const auto pos = plain_name.find(".conv"); pos != std::string::npos) plain_name.erase(pos, 5);
    doubled.emplace_back(plain_name, name == "gamma" ? t : mul(t, 2.0));
  }
  plain->load_state_dict(doubled);
  const Tensor x = rand({2, 16, 4, 4}, 60);
  EXPECT_TRUE(all_close(m.forward(x), plain->forward(x), 1e-12, 1e-12));

  // A projection that changes the spatial size is caught and named.
  const nn::ProjectionFactory pooling = [&](int64_t in, int64_t out) -> std::shared_ptr<nn::Module> {
    struct Pooled : nn::Module {
      Tensor forward(const Tensor& x) override { return avg_pool2d(x, {2, 2}); }
    };
    return std::make_shared<Pooled>();
  };
  nn::SelfAttention bad(16, pooling, DType::f64, device());
  EXPECT_TRUE(throws_error_mentioning(
      [&] { bad.forward(x); }, {"SelfAttention(16)", "projection theta", "[2, 16, 2, 2]", "expected [2, 2, 4, 4]"}));
}

TEST_P(SelfAttentionTest, BadInputsNameTheLayerAndShapes) {
  Generator gen(19);
  EXPECT_TRUE(throws_error_mentioning([&] { nn::SelfAttention(12, gen, DType::f64, device()); },
                                      {"SelfAttention", "multiple of 8", "12"}));
  EXPECT_TRUE(throws_error_mentioning([&] { nn::SelfAttention(0, gen, DType::f64, device()); },
                                      {"SelfAttention", "multiple of 8", "got 0"}));
  nn::SelfAttention m(16, gen, DType::f64, device());
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        m.forward(rand({2, 16, 7, 8}, 70));
      },
      {"SelfAttention(16)", "even height and width", "[2, 16, 7, 8]"}));
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        m.forward(rand({2, 16, 4, 5}, 71));
      },
      {"SelfAttention(16)", "even", "[2, 16, 4, 5]"}));
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        m.forward(rand({2, 8, 4, 4}, 72));
      },
      {"SelfAttention(16)", "expected input [N, 16, H, W]", "[2, 8, 4, 4]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { m.forward(rand({16, 4, 4}, 73)); }, {"SelfAttention(16)", "[16, 4, 4]"}));
  // An input of the wrong dtype fails inside a projection; the message says which one.
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        m.forward(rand({1, 16, 2, 2}, 74, DType::f32));
      },
      {"SelfAttention(16).theta", "Conv2d(16, 2"}));
}

GANTRY_INSTANTIATE_DEVICE_TEST(SelfAttentionTest);

}  // namespace
}  // namespace gantry::testing
