// Spectral normalisation: the power iteration against hand-computed steps and a matrix with known
// singular values, eval mode and n_power_iterations = 0 leaving u/v alone, torch's state-dict names
// and shapes, gradients and double backward by finite differences (u, v held constant, as in
// torch), and bad input.
#include <cmath>
#include <vector>

#include "engine/nn/conv.h"
#include "engine/nn/embedding.h"
#include "engine/nn/init.h"
#include "engine/nn/linear.h"
#include "engine/nn/spectral_norm.h"
#include "engine/ops/nn_ops.h"
#include "tests/support/error_matchers.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_util.h"

namespace gantry::testing {
namespace {

double host_norm(const std::vector<double>& a) {
  double s = 0;
  for (double x : a) s += x * x;
  return std::sqrt(s);
}

// One step of torch's power iteration on a row-major [h, w] matrix, by loops: v = normalize(W^T u),
// u = normalize(W v); returns sigma = u^T W v with the new vectors.
double naive_power_step(const std::vector<double>& m, int64_t h, int64_t w, std::vector<double>& u,
                        std::vector<double>& v) {
  v.assign(static_cast<size_t>(w), 0.0);
  for (int64_t j = 0; j < w; ++j)
    for (int64_t i = 0; i < h; ++i) v[j] += m[i * w + j] * u[i];
  const double nv = host_norm(v);
  for (double& x : v) x /= nv;
  std::vector<double> wv(static_cast<size_t>(h), 0.0);
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) wv[i] += m[i * w + j] * v[j];
  const double nu = host_norm(wv);
  double sigma = 0;
  for (int64_t i = 0; i < h; ++i) {
    u[i] = wv[i] / nu;
    sigma += u[i] * wv[i];
  }
  return sigma;
}

class SpectralNormTest : public DeviceTest {
 protected:
  Tensor rand(const Shape& s, uint64_t seed, double lo = -1.0, double hi = 1.0) {
    return random_uniform(s, seed, lo, hi, DType::f64, device());
  }
  Tensor unit(const Shape& s, uint64_t seed) {
    const Tensor r = rand(s, seed);
    return div(r, norm(r));
  }
};

TEST_P(SpectralNormTest, PowerIterationConvergesToTheTopSingularValue) {
  // W = Q1 diag(4, 3, 1, 0.5) Q2^T with orthonormal Q1 [4, 4], Q2 [5, 4]: sigma_max = 4, and the
  // iteration's error shrinks like (3/4)^(2k).
  Generator gen(11);
  Tensor q1 = empty({4, 4}, DType::f64), q2 = empty({5, 4}, DType::f64);
  nn::init::orthogonal_(q1, gen);
  nn::init::orthogonal_(q2, gen);
  const Tensor s = from_vector(std::vector<double>{4, 3, 1, 0.5}, {1, 4});
  const Tensor w = matmul(mul(q1, s), q2.t()).to(device());
  for (const bool in_one_forward : {false, true}) {
    const int64_t iterations = 60;
    auto layer = nn::spectral_norm(std::make_shared<nn::Linear>(5, 4, true, gen, DType::f64, device()), gen,
                                   {.n_power_iterations = in_one_forward ? iterations : 1});
    layer->load_state_dict({{"weight_orig", w}}, /*strict=*/false);
    const Tensor x = rand({2, 5}, 1);
    for (int64_t k = 0; k < (in_one_forward ? 1 : iterations); ++k) layer->forward(x);
    EXPECT_NEAR(layer->sigma().item<double>(), 4.0, 1e-9) << (in_one_forward ? "one forward" : "one step per forward");
    // u is the top left singular vector (column 0 of Q1) up to sign.
    const std::vector<double> u = to_vector<double>(layer->weight_u()), q = to_vector<double>(q1);
    double overlap = 0;
    for (int64_t i = 0; i < 4; ++i) overlap += u[i] * q[i * 4];
    EXPECT_NEAR(std::abs(overlap), 1.0, 1e-9);
    const Tensor expected = linear(x, div(w, 4.0), layer->layer().bias());
    EXPECT_TRUE(all_close(layer->forward(x), expected, 1e-9, 1e-12));
  }
}

TEST_P(SpectralNormTest, OneTrainingForwardIsOneTorchPowerStep) {
  Generator gen(3);
  // Conv2d (dim 0: rows are output channels) and ConvTranspose2d (dim 1: weight [in, out, KH, KW],
  // rows are its output channels, so the matrix is the weight with dims 0 and 1 swapped).
  auto conv = nn::spectral_norm(
      std::make_shared<nn::Conv2d>(3, 2, Size2{2, 2}, gen, nn::Conv2dOptions{}, DType::f64, device()), gen);
  auto convt = nn::spectral_norm(
      std::make_shared<nn::ConvTranspose2d>(3, 2, Size2{2, 2}, gen, nn::ConvTranspose2dOptions{}, DType::f64, device()),
      gen);
  ASSERT_EQ(conv->dim(), 0);
  ASSERT_EQ(convt->dim(), 1);
  const Tensor x = rand({2, 3, 4, 4}, 5);
  for (nn::SpectralNorm* layer :
       {static_cast<nn::SpectralNorm*>(conv.get()), static_cast<nn::SpectralNorm*>(convt.get())}) {
    const bool transposed = layer == convt.get();
    const std::vector<double> wv = to_vector<double>(layer->weight_orig());
    // Rows of the matrix by explicit index arithmetic: [2, 12] either way.
    std::vector<double> m(24);
    for (int64_t o = 0; o < 2; ++o)
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t k = 0; k < 4; ++k)
          m[o * 12 + i * 4 + k] = transposed ? wv[(i * 2 + o) * 4 + k] : wv[(o * 3 + i) * 4 + k];
    std::vector<double> u = to_vector<double>(layer->weight_u()), v;
    const double sigma = naive_power_step(m, 2, 12, u, v);
    const Tensor out = layer->forward(x);
    EXPECT_TRUE(all_close(layer->weight_u(), from_vector(u, {2}), 1e-12, 1e-14));
    EXPECT_TRUE(all_close(layer->weight_v(), from_vector(v, {12}), 1e-12, 1e-14));
    EXPECT_NEAR(layer->sigma().item<double>(), sigma, 1e-12);
    const Tensor w = div(layer->weight_orig(), sigma);
    const Tensor expected =
        transposed ? conv_transpose2d(x, w, convt->layer().bias()) : conv2d(x, w, conv->layer().bias());
    EXPECT_TRUE(all_close(out, expected, 1e-10, 1e-12));
  }
}

TEST_P(SpectralNormTest, EvalModeAndZeroIterationsUseTheStoredVectors) {
  Generator gen(4);
  for (const bool eval : {true, false}) {
    auto layer = nn::spectral_norm(std::make_shared<nn::Linear>(6, 3, true, gen, DType::f64, device()), gen,
                                   {.n_power_iterations = eval ? 1 : 0});
    if (eval) layer->eval();
    const std::vector<double> u0 = to_vector<double>(layer->weight_u()), v0 = to_vector<double>(layer->weight_v());
    const Tensor x = rand({4, 6}, 7);
    const Tensor out = layer->forward(x);
    layer->forward(x);
    EXPECT_EQ(to_vector<double>(layer->weight_u()), u0);
    EXPECT_EQ(to_vector<double>(layer->weight_v()), v0);
    const Tensor w = layer->weight_orig();
    const double sigma = sum(mul(layer->weight_u(), matmul(w, layer->weight_v()))).item<double>();
    EXPECT_TRUE(all_close(out, linear(x, div(w, sigma), layer->layer().bias()), 1e-12, 1e-14));
  }
  // Back in training mode the iteration runs again.
  auto layer = nn::spectral_norm(std::make_shared<nn::Linear>(6, 3, true, gen, DType::f64, device()), gen);
  layer->eval();
  layer->forward(rand({4, 6}, 8));
  const std::vector<double> u0 = to_vector<double>(layer->weight_u());
  layer->train();
  layer->forward(rand({4, 6}, 8));
  EXPECT_NE(to_vector<double>(layer->weight_u()), u0);
}

TEST_P(SpectralNormTest, StateDictFollowsTorchNamesAndShapes) {
  Generator gen(5);
  auto lin = nn::spectral_norm(std::make_shared<nn::Linear>(5, 4, true, gen, DType::f32, device()), gen);
  EXPECT_EQ(names_of(lin->state_dict()), (std::vector<std::string>{"bias", "weight_orig", "weight_u", "weight_v"}));
  EXPECT_EQ(lin->parameters().size(), 2u);  // bias and weight_orig; u and v are buffers
  EXPECT_TRUE(lin->weight_orig().same(lin->layer().weight()));
  EXPECT_TRUE(lin->weight_orig().requires_grad());
  EXPECT_FALSE(lin->weight_u().requires_grad());
  auto lin_nobias = nn::spectral_norm(std::make_shared<nn::Linear>(5, 4, false, gen, DType::f32, device()), gen);
  EXPECT_EQ(names_of(lin_nobias->state_dict()), (std::vector<std::string>{"weight_orig", "weight_u", "weight_v"}));

  struct Expect {
    std::shared_ptr<nn::SpectralNorm> layer;
    Shape u, v;
  };
  const std::vector<Expect> cases = {
      {lin, {4}, {5}},
      {nn::spectral_norm(
           std::make_shared<nn::Conv2d>(3, 8, Size2{3, 3}, gen, nn::Conv2dOptions{}, DType::f32, device()), gen),
       {8},
       {27}},
      {nn::spectral_norm(std::make_shared<nn::ConvTranspose2d>(3, 5, Size2{4, 4}, gen, nn::ConvTranspose2dOptions{},
                                                               DType::f32, device()),
                         gen),
       {5},
       {48}},
      {nn::spectral_norm(std::make_shared<nn::Embedding>(7, 4, gen, DType::f32, device()), gen), {7}, {4}},
  };
  for (const Expect& c : cases) {
    EXPECT_EQ(c.layer->weight_u().shape(), c.u);
    EXPECT_EQ(c.layer->weight_v().shape(), c.v);
    EXPECT_NEAR(norm(c.layer->weight_u()).item<float>(), 1.0f, 1e-6f);  // normalised N(0, 1) draws
    EXPECT_NEAR(norm(c.layer->weight_v()).item<float>(), 1.0f, 1e-6f);
  }
  // The vectors come from the seeded generator: the same seed, the same vectors; another, others.
  const auto make = [&](uint64_t seed) {
    Generator g(seed);
    return nn::spectral_norm(std::make_shared<nn::Linear>(5, 4, true, g, DType::f32, device()), g);
  };
  EXPECT_EQ(to_vector<float>(make(9)->weight_u()), to_vector<float>(make(9)->weight_u()));
  EXPECT_NE(to_vector<float>(make(9)->weight_u()), to_vector<float>(make(10)->weight_u()));
  // A state dict moves the whole reparametrisation: the copy computes the same outputs.
  auto copy = make(10);
  copy->load_state_dict(lin->state_dict());
  lin->eval();
  copy->eval();
  const Tensor x = random_uniform({3, 5}, 12, -1, 1, DType::f32, device());
  EXPECT_TRUE(all_close(copy->forward(x), lin->forward(x), 0, 0));
}

TEST_P(SpectralNormTest, GradientsMatchFiniteDifferences) {
  const Tensor u3 = unit({3}, 20), v4 = unit({4}, 21), v18 = unit({18}, 22), u5 = unit({5}, 23);
  // Linear: weight [3, 4].
  EXPECT_TRUE(
      gradcheck([&](const TensorList& in) { return linear(in[0], nn::spectral_normalize(in[1], u3, v4, 0), in[2]); },
                {leaf(rand({2, 4}, 24)), leaf(rand({3, 4}, 25)), leaf(rand({3}, 26))}));
  // Conv2d: weight [3, 2, 3, 3].
  EXPECT_TRUE(gradcheck([&](const TensorList& in) { return conv2d(in[0], nn::spectral_normalize(in[1], u3, v18, 0)); },
                        {leaf(rand({1, 2, 4, 4}, 27)), leaf(rand({3, 2, 3, 3}, 28))}));
  // ConvTranspose2d at dim 1: weight [2, 5, 3, 3] -> matrix [5, 18].
  EXPECT_TRUE(gradcheck(
      [&](const TensorList& in) { return conv_transpose2d(in[0], nn::spectral_normalize(in[1], u5, v18, 1)); },
      {leaf(rand({1, 2, 3, 3}, 29)), leaf(rand({2, 5, 3, 3}, 30))}));
  // Embedding: weight [5, 3].
  const Tensor idx = from_vector(std::vector<int64_t>{4, 0, 4}, {3}).to(device());
  EXPECT_TRUE(gradcheck([&](const TensorList& in) { return embedding(idx, nn::spectral_normalize(in[0], u5, u3, 0)); },
                        {leaf(rand({5, 3}, 31))}));

  // Through the module (eval mode keeps u and v fixed between evaluations).
  Generator gen(6);
  auto conv = nn::spectral_norm(
      std::make_shared<nn::Conv2d>(2, 3, Size2{3, 3}, gen, nn::Conv2dOptions{.padding = {1, 1}}, DType::f64, device()),
      gen);
  conv->forward(rand({2, 2, 4, 4}, 32));  // one training step so u, v are not the initial draws
  conv->eval();
  const Tensor x = rand({2, 2, 4, 4}, 33), w = rand({2, 3, 4, 4}, 34);
  EXPECT_TRUE(gradcheck_parameters([&] { return sum(mul(conv->forward(x), w)); }, conv->parameters()));
}

TEST_P(SpectralNormTest, TrainingGradientHoldsTheIteratedVectorsConstant) {
  // torch: the power iteration runs without gradient, so a training step's gradient is the gradient
  // of W / (u^T W v) at the updated u, v taken as constants, which eval mode computes.
  Generator gen(7);
  auto layer = nn::spectral_norm(std::make_shared<nn::Linear>(4, 3, true, gen, DType::f64, device()), gen);
  const Tensor x = rand({5, 4}, 40), w = rand({5, 3}, 41);
  sum(mul(layer->forward(x), w)).backward();
  const Tensor g_train = layer->weight_orig().grad();
  layer->zero_grad();
  layer->eval();
  sum(mul(layer->forward(x), w)).backward();
  EXPECT_TRUE(all_close(g_train, layer->weight_orig().grad(), 1e-12, 1e-14));
  // ...and differs from the gradient at the vectors before the step.
  auto fresh = nn::spectral_norm(std::make_shared<nn::Linear>(4, 3, true, gen, DType::f64, device()), gen);
  fresh->load_state_dict(layer->state_dict());
  const Tensor u = unit({3}, 42), v = unit({4}, 43);
  fresh->load_state_dict({{"weight_u", u}, {"weight_v", v}}, /*strict=*/false);
  fresh->eval();
  sum(mul(fresh->forward(x), w)).backward();
  EXPECT_FALSE(all_close(g_train, fresh->weight_orig().grad(), 1e-6, 1e-8));
}

TEST_P(SpectralNormTest, DoubleBackwardForGradientPenalties) {
  const Tensor u3 = unit({3}, 50), v18 = unit({18}, 51);
  EXPECT_TRUE(gradgradcheck(
      [&](const TensorList& in) {
        return tanh(conv2d(in[0], nn::spectral_normalize(in[1], u3, v18, 0), in[2], {1, 1}, {1, 1}));
      },
      {leaf(rand({2, 2, 3, 3}, 52)), leaf(rand({3, 2, 3, 3}, 53)), leaf(rand({3}, 54))}));

  // A WGAN-GP penalty through a spectrally normalised critic, differentiated w.r.t. its parameters.
  Generator gen(8);
  auto conv = nn::spectral_norm(
      std::make_shared<nn::Conv2d>(2, 3, Size2{3, 3}, gen, nn::Conv2dOptions{}, DType::f64, device()), gen);
  auto head = nn::spectral_norm(std::make_shared<nn::Linear>(12, 1, true, gen, DType::f64, device()), gen);
  conv->eval();
  head->eval();
  const Tensor mix = rand({2, 2, 4, 4}, 55);
  const auto penalty = [&] {
    const Tensor x = mix.detach().set_requires_grad(true);
    const Tensor score = head->forward(tanh(conv->forward(x)).flatten(1));
    const Tensor dx = autograd::grad({sum(score)}, {x}, {}, /*create_graph=*/true)[0];
    return mean(pow(sub(norm(dx.flatten(1), 2.0, {1}), 1.0), 2.0));
  };
  TensorList params = conv->parameters();
  params.push_back(head->weight_orig());  // head's bias does not reach d score / d x
  EXPECT_TRUE(gradcheck_parameters(penalty, params));
}

TEST_P(SpectralNormTest, BadInputsNameTheLayerAndShapes) {
  Generator gen(9);
  auto lin = std::make_shared<nn::Linear>(5, 4, true, gen, DType::f64, device());
  EXPECT_TRUE(
      throws_error_mentioning([&] { nn::spectral_norm(lin, gen, {.dim = 2}); }, {"spectral_norm", "dim 2", "[4, 5]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { nn::spectral_norm(lin, gen, {.n_power_iterations = -1}); },
                                      {"spectral_norm", "n_power_iterations", "-1"}));
  auto sn = nn::spectral_norm(lin, gen);
  EXPECT_TRUE(throws_error_mentioning([&] { sn->forward(rand({3, 6}, 60)); }, {"Linear", "[3, 6]"}));
  auto conv = nn::spectral_norm(
      std::make_shared<nn::Conv2d>(3, 2, Size2{3, 3}, gen, nn::Conv2dOptions{}, DType::f64, device()), gen);
  EXPECT_TRUE(throws_error_mentioning([&] { conv->forward(rand({1, 4, 5, 5}, 61)); }, {"Conv2d(3, 2", "[1, 4, 5, 5]"}));
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        nn::spectral_normalize(rand({3, 4}, 62), unit({4}, 63), unit({4}, 64), 0);
      },
      {"spectral_norm", "u [3]", "[3, 4]", "u [4]"}));
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        conv->load_state_dict({{"weight_u", rand({3}, 65)}}, false);
      },
      {"weight_u", "[3]", "[2]"}));
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        lin->forward_with_weight(rand({3, 5}, 66), rand({5, 4}, 67));
      },
      {"Linear(5, 4)", "[4, 5]", "[5, 4]"}));
}

GANTRY_INSTANTIATE_DEVICE_TEST(SpectralNormTest);

}  // namespace
}  // namespace gantry::testing
