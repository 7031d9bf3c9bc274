// conv2d, conv_transpose2d and the two conv2d gradient ops: forward against naive loops (asymmetric
// kernels, strides, padding, dilation, strided inputs), gradients by finite differences, double
// backward, and bad input.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/dispatch/conv_kernels.h"
#include "engine/nn/conv.h"
#include "engine/ops/nn_ops.h"
#include "tests/support/error_matchers.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_util.h"

namespace gantry::testing {
namespace {

struct ConvCase {
  Shape x, w;
  Size2 stride, padding, dilation;
};

int64_t at4(const Shape& s, int64_t a, int64_t b, int64_t c, int64_t d) {
  return ((a * s[1] + b) * s[2] + c) * s[3] + d;
}

// The textbook seven loops: out[n, o, y, x] = b[o] + sum_{c, i, j} in[n, c, y s - p + i d, x s - p + j d] w[o, c, i, j].
Tensor naive_conv2d(const Tensor& x, const Tensor& w, const Tensor& b, Size2 s, Size2 p, Size2 d) {
  const std::vector<double> vx = to_vector<double>(x.to(DType::f64)), vw = to_vector<double>(w.to(DType::f64));
  const std::vector<double> vb = b.defined() ? to_vector<double>(b.to(DType::f64)) : std::vector<double>();
  const Shape xs = x.shape(), ws = w.shape();
  const int64_t oh = (xs[2] + 2 * p[0] - d[0] * (ws[2] - 1) - 1) / s[0] + 1;
  const int64_t ow = (xs[3] + 2 * p[1] - d[1] * (ws[3] - 1) - 1) / s[1] + 1;
  const Shape os{xs[0], ws[0], oh, ow};
  std::vector<double> out(static_cast<size_t>(shape_numel(os)));
  for (int64_t n = 0; n < xs[0]; ++n)
    for (int64_t o = 0; o < ws[0]; ++o)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t xo = 0; xo < ow; ++xo) {
          double acc = vb.empty() ? 0.0 : vb[o];
          for (int64_t c = 0; c < xs[1]; ++c)
            for (int64_t i = 0; i < ws[2]; ++i)
              for (int64_t j = 0; j < ws[3]; ++j) {
                const int64_t iy = y * s[0] - p[0] + i * d[0], ix = xo * s[1] - p[1] + j * d[1];
                if (iy < 0 || iy >= xs[2] || ix < 0 || ix >= xs[3]) continue;
                acc += vx[at4(xs, n, c, iy, ix)] * vw[at4(ws, o, c, i, j)];
              }
          out[at4(os, n, o, y, xo)] = acc;
        }
  return from_vector(out, os);
}

// The transposed convolution in its scatter form: every input pixel adds its weighted kernel into the
// output at (y s - p + i d, x s - p + j d).
Tensor naive_conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& b, Size2 s, Size2 p, Size2 op,
                              Size2 d) {
  const std::vector<double> vx = to_vector<double>(x.to(DType::f64)), vw = to_vector<double>(w.to(DType::f64));
  const std::vector<double> vb = b.defined() ? to_vector<double>(b.to(DType::f64)) : std::vector<double>();
  const Shape xs = x.shape(), ws = w.shape();
  const int64_t oh = (xs[2] - 1) * s[0] - 2 * p[0] + d[0] * (ws[2] - 1) + op[0] + 1;
  const int64_t ow = (xs[3] - 1) * s[1] - 2 * p[1] + d[1] * (ws[3] - 1) + op[1] + 1;
  const Shape os{xs[0], ws[1], oh, ow};
  std::vector<double> out(static_cast<size_t>(shape_numel(os)), 0.0);
  for (int64_t n = 0; n < xs[0]; ++n)
    for (int64_t co = 0; co < ws[1]; ++co)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t xo = 0; xo < ow; ++xo) out[at4(os, n, co, y, xo)] = vb.empty() ? 0.0 : vb[co];
  for (int64_t n = 0; n < xs[0]; ++n)
    for (int64_t ci = 0; ci < xs[1]; ++ci)
      for (int64_t y = 0; y < xs[2]; ++y)
        for (int64_t xi = 0; xi < xs[3]; ++xi)
          for (int64_t co = 0; co < ws[1]; ++co)
            for (int64_t i = 0; i < ws[2]; ++i)
              for (int64_t j = 0; j < ws[3]; ++j) {
                const int64_t oy = y * s[0] - p[0] + i * d[0], ox = xi * s[1] - p[1] + j * d[1];
                if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                out[at4(os, n, co, oy, ox)] += vx[at4(xs, n, ci, y, xi)] * vw[at4(ws, ci, co, i, j)];
              }
  return from_vector(out, os);
}

const std::vector<ConvCase>& conv_cases() {
  static const std::vector<ConvCase> cases = {
      {{2, 3, 7, 6}, {4, 3, 3, 3}, {1, 1}, {1, 1}, {1, 1}},    // same-size 3x3
      {{2, 3, 9, 8}, {5, 3, 1, 7}, {1, 1}, {0, 3}, {1, 1}},    // Inception's 1x7
      {{1, 2, 10, 9}, {3, 2, 7, 1}, {1, 1}, {3, 0}, {1, 1}},   // and 7x1
      {{2, 3, 11, 10}, {4, 3, 3, 2}, {2, 3}, {1, 2}, {2, 1}},  // stride, padding, dilation per dim
      {{3, 4, 5, 7}, {6, 4, 1, 1}, {1, 1}, {0, 0}, {1, 1}},    // pointwise (no unfolding)
      {{1, 3, 4, 5}, {2, 3, 1, 1}, {1, 1}, {0, 0}, {1, 1}},    // pointwise, one image (GEMMs in place)
      {{2, 3, 8, 8}, {5, 3, 4, 4}, {2, 2}, {1, 1}, {1, 1}},    // DCGAN critic block
      {{2, 2, 6, 5}, {3, 2, 3, 3}, {2, 2}, {0, 0}, {1, 1}},    // stride that drops the last row/col
      {{1, 2, 3, 3}, {2, 2, 5, 5}, {1, 1}, {1, 1}, {1, 1}},    // kernel larger than the input, padded to fit
  };
  return cases;
}

class ConvTest : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped()) return;
    if (device().is_cuda() && !conv2d_forward_kernel.has(DeviceType::CUDA))
      GTEST_SKIP() << "no CUDA convolution kernels are registered";
  }
  Tensor rand(const Shape& s, uint64_t seed, DType dt = DType::f64) {
    return random_uniform(s, seed, -1.0, 1.0, dt, device());
  }
};

TEST_P(ConvTest, Conv2dMatchesNaiveLoops) {
  uint64_t seed = 1;
  for (const ConvCase& c : conv_cases())
    for (DType dt : {DType::f64, DType::f32}) {
      const Tensor x = rand(c.x, seed++, dt), w = rand(c.w, seed++, dt), b = rand({c.w[0]}, seed++, dt);
      const double tol = dt == DType::f64 ? 1e-12 : 1e-5;
      const std::string what = "x " + shape_str(c.x) + " w " + shape_str(c.w) + " " + dtype_name(dt);
      EXPECT_TRUE(all_close(conv2d(x, w, b, c.stride, c.padding, c.dilation),
                            naive_conv2d(x, w, b, c.stride, c.padding, c.dilation), tol, tol))
          << what;
      EXPECT_TRUE(all_close(conv2d(x, w, Tensor(), c.stride, c.padding, c.dilation),
                            naive_conv2d(x, w, Tensor(), c.stride, c.padding, c.dilation), tol, tol))
          << what << " without bias";
    }
}

TEST_P(ConvTest, ChunkedBatchesMatchOneImageAtATime) {
  // The CPU kernels unfold several images into one column matrix (about 1024 GEMM columns per chunk,
  // at most 2 MiB): with 400 output pixels a chunk holds 3 images, so a batch of 7 runs as chunks of
  // 3, 3 and 1.
  // The forward is checked against the naive loops and both gradients against single-image calls.
  const std::vector<ConvCase> cases = {
      {{7, 2, 20, 20}, {3, 2, 3, 3}, {1, 1}, {1, 1}, {1, 1}},  // same-size 3x3
      {{7, 2, 40, 40}, {3, 2, 4, 4}, {2, 2}, {1, 1}, {1, 1}},  // DCGAN critic block
      {{7, 3, 20, 20}, {2, 3, 3, 3}, {1, 3}, {0, 2}, {1, 2}},  // stride 3 (the run-time stride loop)
  };
  uint64_t seed = 50;
  for (const ConvCase& c : cases)
    for (DType dt : {DType::f64, DType::f32}) {
      const Tensor x = rand(c.x, seed++, dt), w = rand(c.w, seed++, dt), b = rand({c.w[0]}, seed++, dt);
      const double tol = dt == DType::f64 ? 1e-12 : 1e-4;
      const std::string what = "x " + shape_str(c.x) + " w " + shape_str(c.w) + " " + dtype_name(dt);
      const Tensor y = conv2d(x, w, b, c.stride, c.padding, c.dilation);
      EXPECT_TRUE(all_close(y, naive_conv2d(x, w, b, c.stride, c.padding, c.dilation), tol, tol)) << what;
      const Tensor g = rand(y.shape(), seed++, dt);
      const Size2 in_hw{c.x[2], c.x[3]}, k_hw{c.w[2], c.w[3]};
      const Tensor gx = conv2d_input_grad(g, w, in_hw, c.stride, c.padding, c.dilation);
      const Tensor gw = conv2d_weight_grad(x, g, k_hw, c.stride, c.padding, c.dilation);
      Tensor gw_sum = zeros_like(gw);
      for (int64_t n = 0; n < c.x[0]; ++n) {
        const Tensor xn = x.slice(0, n, n + 1), gn = g.slice(0, n, n + 1);
        EXPECT_TRUE(all_close(gx.slice(0, n, n + 1), conv2d_input_grad(gn, w, in_hw, c.stride, c.padding, c.dilation),
                              tol, tol))
            << what << " input gradient of image " << n;
        gw_sum = add(gw_sum, conv2d_weight_grad(xn, gn, k_hw, c.stride, c.padding, c.dilation));
      }
      EXPECT_TRUE(all_close(gw, gw_sum, tol, tol)) << what << " weight gradient";
    }
}

TEST_P(ConvTest, LargeImagesRunInBandsOfOutputRows) {
  // An image whose column matrix exceeds 2 MiB is unfolded a band of output rows at a time on the CPU,
  // each band's GEMM writing into the output: these run in 2 to 5 bands (f32 and f64), the last one
  // shorter, with padding, stride 2 (Inception's first layer) and a 1x1 layer that reads the image itself.
  const std::vector<ConvCase> cases = {
      {{2, 8, 150, 100}, {3, 8, 3, 3}, {1, 1}, {1, 1}, {1, 1}},
      {{1, 3, 301, 301}, {4, 3, 3, 3}, {2, 2}, {0, 0}, {1, 1}},
      {{1, 64, 100, 200}, {2, 64, 1, 1}, {1, 1}, {0, 0}, {1, 1}},
  };
  uint64_t seed = 70;
  for (const ConvCase& c : cases)
    for (DType dt : {DType::f64, DType::f32}) {
      const Tensor x = rand(c.x, seed++, dt), w = rand(c.w, seed++, dt), b = rand({c.w[0]}, seed++, dt);
      const double tol = dt == DType::f64 ? 1e-12 : 1e-5;
      const std::string what = "x " + shape_str(c.x) + " w " + shape_str(c.w) + " " + dtype_name(dt);
      const Tensor expected = naive_conv2d(x, w, b, c.stride, c.padding, c.dilation);
      EXPECT_TRUE(all_close(conv2d(x, w, b, c.stride, c.padding, c.dilation), expected, tol, tol)) << what;
      EXPECT_TRUE(all_close(conv2d_relu(x, w, b, c.stride, c.padding, c.dilation), relu(expected), tol, tol)) << what;
    }
}

TEST_P(ConvTest, Conv2dReluIsReluOfConv2d) {
  // Without autograd history the CPU fuses the ReLU into the convolution: the same bits as the two ops,
  // for one image, chunks of images and bands of rows; with history it is the two ops, gradients and all.
  std::vector<ConvCase> cases = conv_cases();
  cases.push_back({{7, 2, 20, 20}, {3, 2, 3, 3}, {1, 1}, {1, 1}, {1, 1}});
  cases.push_back({{1, 8, 150, 100}, {3, 8, 3, 3}, {1, 1}, {1, 1}, {1, 1}});
  uint64_t seed = 80;
  for (const ConvCase& c : cases)
    for (DType dt : {DType::f64, DType::f32}) {
      const Tensor x = rand(c.x, seed++, dt), w = rand(c.w, seed++, dt), b = rand({c.w[0]}, seed++, dt);
      const std::string what = "x " + shape_str(c.x) + " w " + shape_str(c.w) + " " + dtype_name(dt);
      NoGradGuard no_grad;
      for (const Tensor& bias : {b, Tensor()})
        EXPECT_TRUE(all_close(conv2d_relu(x, w, bias, c.stride, c.padding, c.dilation),
                              relu(conv2d(x, w, bias, c.stride, c.padding, c.dilation)), 0, 0))
            << what << (bias.defined() ? "" : " without bias");
    }
  const Tensor x = leaf(rand({2, 2, 5, 5}, 90)), w = leaf(rand({3, 2, 3, 3}, 91)), b = leaf(rand({3}, 92));
  const auto fn = [](const TensorList& in) { return conv2d_relu(in[0], in[1], in[2], {1, 1}, {1, 1}); };
  EXPECT_TRUE(all_close(fn({x, w, b}), relu(conv2d(x, w, b, {1, 1}, {1, 1})), 0, 0));
  EXPECT_TRUE(gradcheck(fn, {x, w, b}));
  EXPECT_TRUE(gradgradcheck(fn, {x, w, b}));
}

TEST_P(ConvTest, Conv2dOfStridedViewsMatchesNaive) {
  // A channels-last tensor permuted to NCHW and a weight sliced out of a larger one.
  const Tensor x = rand({2, 6, 7, 3}, 40).permute({0, 3, 1, 2});
  const Tensor w = rand({4, 3, 5, 3}, 41).slice(2, 1, 4);
  const Tensor b = rand({8}, 42).slice(0, 0, 8, 2);
  EXPECT_TRUE(all_close(conv2d(x, w, b, {1, 2}, {1, 1}), naive_conv2d(x, w, b, {1, 2}, {1, 1}, {1, 1}), 1e-12, 1e-12));
}

TEST_P(ConvTest, ConvTranspose2dMatchesScatterLoops) {
  struct Case {
    Shape x, w;
    Size2 s, p, op, d;
  };
  const std::vector<Case> cases = {
      {{2, 4, 4, 4}, {4, 3, 4, 4}, {2, 2}, {1, 1}, {0, 0}, {1, 1}},  // DCGAN generator block (x2)
      {{1, 6, 1, 1}, {6, 5, 4, 4}, {1, 1}, {0, 0}, {0, 0}, {1, 1}},  // DCGAN's first layer: 1x1 -> 4x4
      {{2, 3, 5, 4}, {3, 2, 3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}},  // output_padding
      {{2, 2, 4, 5}, {2, 3, 3, 2}, {3, 2}, {2, 0}, {2, 1}, {2, 1}},  // everything per dim
      {{3, 5, 6, 6}, {5, 4, 1, 1}, {1, 1}, {0, 0}, {0, 0}, {1, 1}},  // pointwise
  };
  uint64_t seed = 100;
  for (const Case& c : cases)
    for (DType dt : {DType::f64, DType::f32}) {
      const Tensor x = rand(c.x, seed++, dt), w = rand(c.w, seed++, dt), b = rand({c.w[1]}, seed++, dt);
      const double tol = dt == DType::f64 ? 1e-12 : 1e-5;
      EXPECT_TRUE(all_close(conv_transpose2d(x, w, b, c.s, c.p, c.op, c.d),
                            naive_conv_transpose2d(x, w, b, c.s, c.p, c.op, c.d), tol, tol))
          << "x " << shape_str(c.x) << " w " << shape_str(c.w) << " " << dtype_name(dt);
    }
}

TEST_P(ConvTest, Conv2dGradientsMatchFiniteDifferences) {
  uint64_t seed = 200;
  for (const ConvCase& c : conv_cases()) {
    Shape xs = c.x;
    xs[0] = std::min<int64_t>(xs[0], 2);  // keep the finite differences cheap
    const Tensor x = leaf(rand(xs, seed++)), w = leaf(rand(c.w, seed++)), b = leaf(rand({c.w[0]}, seed++));
    EXPECT_TRUE(gradcheck([&](const TensorList& in) { return conv2d(in[0], in[1], in[2], c.stride, c.padding, c.dilation); },
                          {x, w, b}))
        << "x " << shape_str(xs) << " w " << shape_str(c.w);
  }
}

TEST_P(ConvTest, Conv2dDoubleBackwardMatchesFiniteDifferences) {
  // Small cases of each geometry: the Hessian-vector products of a WGAN-GP critic's first layer.
  const std::vector<ConvCase> cases = {
      {{2, 2, 5, 5}, {3, 2, 3, 3}, {1, 1}, {1, 1}, {1, 1}},
      {{1, 2, 7, 6}, {2, 2, 3, 2}, {2, 1}, {1, 0}, {1, 2}},
      {{2, 2, 6, 6}, {2, 2, 4, 4}, {2, 2}, {1, 1}, {1, 1}},
  };
  uint64_t seed = 300;
  for (const ConvCase& c : cases) {
    const Tensor x = leaf(rand(c.x, seed++)), w = leaf(rand(c.w, seed++)), b = leaf(rand({c.w[0]}, seed++));
    EXPECT_TRUE(gradgradcheck(
        [&](const TensorList& in) { return conv2d(in[0], in[1], in[2], c.stride, c.padding, c.dilation); }, {x, w, b}))
        << "x " << shape_str(c.x) << " w " << shape_str(c.w);
  }
}

TEST_P(ConvTest, GradientOpsHaveTheirOwnGradients) {
  // The two backward ops are differentiable in both arguments (third-order terms of a penalty).
  const Tensor g = leaf(rand({2, 3, 3, 3}, 400)), w = leaf(rand({3, 2, 3, 2}, 401)), x = leaf(rand({2, 2, 6, 5}, 402));
  const Size2 s{2, 1}, p{1, 0}, d{1, 2};
  EXPECT_TRUE(gradcheck([&](const TensorList& in) { return conv2d_input_grad(in[0], in[1], {6, 5}, s, p, d); }, {g, w}));
  EXPECT_TRUE(gradcheck([&](const TensorList& in) { return conv2d_weight_grad(in[0], in[1], {3, 2}, s, p, d); }, {x, g}));
  EXPECT_TRUE(gradgradcheck([&](const TensorList& in) { return conv2d_input_grad(in[0], in[1], {6, 5}, s, p, d); }, {g, w}));
  EXPECT_TRUE(gradgradcheck([&](const TensorList& in) { return conv2d_weight_grad(in[0], in[1], {3, 2}, s, p, d); }, {x, g}));
}

TEST_P(ConvTest, ConvTranspose2dGradientsMatchFiniteDifferences) {
  const Tensor x = leaf(rand({2, 3, 3, 4}, 500)), w = leaf(rand({3, 2, 4, 3}, 501)), b = leaf(rand({2}, 502));
  const auto fn = [](const TensorList& in) { return conv_transpose2d(in[0], in[1], in[2], {2, 2}, {1, 1}, {1, 0}); };
  EXPECT_TRUE(gradcheck(fn, {x, w, b}));
  EXPECT_TRUE(gradgradcheck(fn, {x, w, b}));
}

TEST_P(ConvTest, GradientPenaltyThroughATwoLayerCritic) {
  // ||d critic / dx||^2 with critic = conv -> leaky_relu -> conv -> sum, differentiated w.r.t. the
  // weights: the WGAN-GP path, checked by finite differences.
  const Tensor x = rand({2, 2, 6, 6}, 600);
  const Tensor w1 = leaf(rand({3, 2, 3, 3}, 601)), w2 = leaf(rand({1, 3, 4, 4}, 602));
  const auto penalty = [&](const TensorList& in) {
    const Tensor xi = leaf(x);
    const Tensor h = leaky_relu(conv2d(xi, in[0], Tensor(), {1, 1}, {1, 1}), 0.2);
    const Tensor score = sum(conv2d(h, in[1], Tensor(), {2, 2}, {1, 1}));
    const Tensor gx = autograd::grad({score}, {xi}, {}, /*create_graph=*/true)[0];
    return sum(mul(gx, gx));
  };
  EXPECT_TRUE(gradcheck(penalty, {w1, w2}));
}

TEST_P(ConvTest, EmptyBatchGivesEmptyOutputAndZeroWeightGradient) {
  const Tensor x = leaf(rand({0, 3, 6, 6}, 900)), w = leaf(rand({4, 3, 3, 3}, 901)), b = leaf(rand({4}, 902));
  const Tensor y = conv2d(x, w, b, {2, 2}, {1, 1});
  EXPECT_EQ(y.shape(), (Shape{0, 4, 3, 3}));
  const TensorList grads = autograd::grad({sum(y)}, {w, b});
  EXPECT_TRUE(all_close(grads[0], zeros_like(w), 0, 0));
  EXPECT_TRUE(all_close(grads[1], zeros_like(b), 0, 0));
  // A strided bias on the transposed convolution.
  const Tensor xt = rand({1, 3, 2, 2}, 903), wt = rand({3, 2, 3, 3}, 904), bt = rand({4}, 905).slice(0, 0, 4, 2);
  EXPECT_TRUE(all_close(conv_transpose2d(xt, wt, bt), naive_conv_transpose2d(xt, wt, bt, {1, 1}, {0, 0}, {0, 0}, {1, 1}),
                        1e-12, 1e-12));
}

TEST_P(ConvTest, BadInputsNameTheOpAndShapes) {
  const Tensor x = rand({2, 3, 5, 5}, 700), w = rand({4, 2, 3, 3}, 701);
  EXPECT_TRUE(throws_error_mentioning([&] { conv2d(x, w); }, {"conv2d", "3 channels", "[4, 2, 3, 3]"}));
  const Tensor big = rand({4, 3, 8, 3}, 702);
  EXPECT_TRUE(throws_error_mentioning([&] { conv2d(x, big, Tensor(), {1, 1}, {1, 1}); },
                                      {"conv2d", "larger than the padded input", "[2, 3, 5, 5]", "[4, 3, 8, 3]"}));
  const Tensor w3 = rand({4, 3, 3, 3}, 703);
  EXPECT_TRUE(throws_error_mentioning([&] { conv2d(x, w3, rand({3}, 704)); }, {"conv2d", "bias", "[4]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { conv2d(x.to(DType::f32), w3); }, {"conv2d", "float64", "float32"}));
  EXPECT_TRUE(throws_error_mentioning([&] { conv2d(x.reshape({6, 5, 5}), w3); }, {"conv2d", "4-D", "[6, 5, 5]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { conv2d(x, w3, Tensor(), {0, 1}); }, {"conv2d", "stride"}));
  const Tensor wt = rand({3, 2, 3, 3}, 705);
  EXPECT_TRUE(throws_error_mentioning([&] { conv_transpose2d(x, wt, Tensor(), {2, 2}, {0, 0}, {2, 0}); },
                                      {"conv_transpose2d", "output_padding", "stride"}));
  EXPECT_TRUE(throws_error_mentioning([&] { conv_transpose2d(x, w); }, {"conv_transpose2d", "3 channels"}));
  EXPECT_TRUE(throws_error_mentioning([&] { conv2d_input_grad(rand({2, 4, 4, 4}, 706), w3, {5, 5}); },
                                      {"conv2d_input_grad", "[2, 4, 4, 4]", "[2, 4, 3, 3]"}));
}

// Largest |value| of a tensor.
double max_abs(const Tensor& t) {
  double m = 0;
  for (double v : to_vector<double>(t)) m = std::max(m, std::abs(v));
  return m;
}

TEST_P(ConvTest, Conv2dModuleHasTorchNamesShapesAndInit) {
  Generator gen(11);
  nn::Conv2d conv(3, 8, {3, 5}, gen, {.stride = {2, 1}, .padding = {1, 2}}, DType::f64, device());
  const nn::NamedTensors params = conv.named_parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].first, "weight");
  EXPECT_EQ(params[1].first, "bias");
  EXPECT_EQ(conv.weight().shape(), (Shape{8, 3, 3, 5}));
  EXPECT_EQ(conv.bias().shape(), (Shape{8}));
  // torch's default: both uniform within 1/sqrt(fan_in), fan_in = 3 * 3 * 5 (360 weights nearly reach it).
  const double bound = 1.0 / std::sqrt(45.0);
  EXPECT_LE(max_abs(conv.weight()), bound);
  EXPECT_GT(max_abs(conv.weight()), 0.9 * bound);
  EXPECT_LE(max_abs(conv.bias()), bound);
  EXPECT_GT(max_abs(conv.bias()), 0.0);
  const Tensor x = rand({2, 3, 7, 6}, 800);
  EXPECT_TRUE(all_close(conv.forward(x), naive_conv2d(x, conv.weight(), conv.bias(), {2, 1}, {1, 2}, {1, 1}), 1e-12, 1e-12));
  EXPECT_TRUE(throws_error_mentioning([&] { conv.forward(rand({2, 4, 7, 6}, 801)); },
                                      {"Conv2d(3, 8, kernel_size=3x5", "[N, 3, H, W]", "[2, 4, 7, 6]"}));
  nn::Conv2d big(3, 2, {5, 5}, gen, {}, DType::f64, device());
  EXPECT_TRUE(throws_error_mentioning([&] { big.forward(rand({1, 3, 4, 6}, 802)); },
                                      {"Conv2d(3, 2, kernel_size=5x5", "larger than the padded input", "[1, 3, 4, 6]"}));
  nn::Conv2d no_bias(3, 4, {1, 1}, gen, {.bias = false}, DType::f64, device());
  EXPECT_EQ(no_bias.named_parameters().size(), 1u);
  EXPECT_FALSE(no_bias.bias().defined());
}

TEST_P(ConvTest, ConvTranspose2dModuleHasTorchNamesShapesAndInit) {
  Generator gen(12);
  nn::ConvTranspose2d up(6, 4, {4, 4}, gen, {.stride = {2, 2}, .padding = {1, 1}}, DType::f64, device());
  EXPECT_EQ(up.named_parameters()[0].first, "weight");
  EXPECT_EQ(up.weight().shape(), (Shape{6, 4, 4, 4}));  // [in, out, KH, KW] like torch
  const double bound = 1.0 / std::sqrt(4.0 * 16.0);     // torch's fan_in of this weight: size(1) * KH * KW
  EXPECT_LE(max_abs(up.weight()), bound);
  EXPECT_GT(max_abs(up.weight()), 0.9 * bound);
  EXPECT_LE(max_abs(up.bias()), bound);
  const Tensor x = rand({2, 6, 4, 4}, 810);
  const Tensor y = up.forward(x);
  EXPECT_EQ(y.shape(), (Shape{2, 4, 8, 8}));  // the DCGAN doubling
  EXPECT_TRUE(all_close(y, naive_conv_transpose2d(x, up.weight(), up.bias(), {2, 2}, {1, 1}, {0, 0}, {1, 1}), 1e-12, 1e-12));
  EXPECT_TRUE(throws_error_mentioning([&] { up.forward(rand({2, 4, 4, 4}, 811)); }, {"ConvTranspose2d(6, 4", "[2, 4, 4, 4]"}));
}

GANTRY_INSTANTIATE_DEVICE_TEST(ConvTest);

}  // namespace
}  // namespace gantry::testing
