// matmul, linear, norm, pairwise_sq_dist: forward against naive host loops (transposed, sliced and
// broadcast-batch operands; sizes that are multiples of nothing), gradients by finite differences,
// double backward, and bad input.
#include <cmath>
#include <limits>
#include <string>

#include "tests/support/gradcheck.h"
#include "engine/dispatch/linalg_kernels.h"
#include "tests/support/error_matchers.h"
#include "tests/support/test_util.h"

namespace gantry::testing {
namespace {

// Plain-loop matrix product of host copies with torch's batch broadcasting (operands >= 2-D).
Tensor naive_matmul(const Tensor& a, const Tensor& b) {
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  const Shape batch = broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2),
                                       Shape(b.shape().begin(), b.shape().end() - 2), "naive_matmul");
  Shape a_shape = batch, b_shape = batch, out_shape = batch;
  a_shape.insert(a_shape.end(), {m, k});
  b_shape.insert(b_shape.end(), {k, n});
  out_shape.insert(out_shape.end(), {m, n});
  const std::vector<double> va = to_vector<double>(a.expand(a_shape)), vb = to_vector<double>(b.expand(b_shape));
  const int64_t nb = shape_numel(batch);
  std::vector<double> out(static_cast<size_t>(nb * m * n));
  for (int64_t t = 0; t < nb; ++t)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p) acc += va[(t * m + i) * k + p] * vb[(t * k + p) * n + j];
        out[(t * m + i) * n + j] = acc;
      }
  return from_vector(out, out_shape);
}

class LinalgTest : public DeviceTest {
 protected:
  Tensor rand(const Shape& s, uint64_t seed, DType dt = DType::f64) {
    return random_uniform(s, seed, -1.0, 1.0, dt, device());
  }
};

TEST_P(LinalgTest, MatmulMatchesNaiveLoopsForPlainMatrices) {
  for (DType dt : {DType::f64, DType::f32}) {
    const Tensor a = rand({7, 13}, 1, dt), b = rand({13, 5}, 2, dt);
    const double tol = dt == DType::f64 ? 1e-12 : 1e-5;
    EXPECT_TRUE(all_close(matmul(a, b), naive_matmul(a, b), tol, tol)) << dtype_name(dt);
  }
}

TEST_P(LinalgTest, MatmulOfTransposedViewsMatchesNaive) {
  const Tensor at = rand({13, 7}, 3).t(), bt = rand({5, 13}, 4).t();  // [7, 13] and [13, 5], transposed
  const Tensor a = rand({7, 13}, 5), b = rand({13, 5}, 6);
  EXPECT_TRUE(all_close(matmul(at, bt), naive_matmul(at, bt), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(matmul(at, b), naive_matmul(at, b), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(matmul(a, bt), naive_matmul(a, bt), 1e-12, 1e-12));
  // Batched transposes: [2, 6, 4] -> [2, 4, 6] times [2, 6, 3].
  const Tensor ab = rand({2, 6, 4}, 7).transpose(1, 2), bb = rand({2, 6, 3}, 8);
  EXPECT_TRUE(all_close(matmul(ab, bb), naive_matmul(ab, bb), 1e-12, 1e-12));
}

TEST_P(LinalgTest, MatmulOfSlicedViewsMatchesNaive) {
  // Column range: leading dimension 20 > 13 columns (no copy needed).
  const Tensor a = rand({9, 20}, 9).slice(1, 3, 16);
  const Tensor b = rand({17, 6}, 10).slice(0, 2, 15);
  EXPECT_TRUE(all_close(matmul(a, b), naive_matmul(a, b), 1e-12, 1e-12));
  // Every other column: neither the view nor its transpose has a unit stride (copied).
  const Tensor a_step = rand({9, 26}, 11).slice(1, 0, 26, 2);
  EXPECT_TRUE(all_close(matmul(a_step, b), naive_matmul(a_step, b), 1e-12, 1e-12));
  // A single row and a single column.
  const Tensor row = rand({5, 13}, 12).slice(0, 2, 3), col = rand({13, 4}, 13).slice(1, 1, 2);
  EXPECT_TRUE(all_close(matmul(row, col), naive_matmul(row, col), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(matmul(col, row), naive_matmul(col, row), 1e-12, 1e-12));
}

TEST_P(LinalgTest, MatmulBroadcastsBatchDims) {
  const Tensor a = rand({3, 1, 4, 6}, 14), b = rand({5, 6, 2}, 15);
  const Tensor out = matmul(a, b);
  EXPECT_EQ(out.shape(), (Shape{3, 5, 4, 2}));
  EXPECT_TRUE(all_close(out, naive_matmul(a, b), 1e-12, 1e-12));
  // Batched a times a plain matrix (one tall product), and a plain matrix times a batched b.
  const Tensor a3 = rand({2, 3, 4, 5}, 16), w = rand({5, 7}, 17);
  EXPECT_TRUE(all_close(matmul(a3, w), naive_matmul(a3, w), 1e-12, 1e-12));
  const Tensor p = rand({4, 5}, 18), b3 = rand({3, 5, 2}, 19);
  EXPECT_TRUE(all_close(matmul(p, b3), naive_matmul(p, b3), 1e-12, 1e-12));
  // Batch dims that cannot be merged into one stride after broadcasting ([3,1] -> [3,4]).
  const Tensor c = rand({3, 1, 2, 5}, 20), d = rand({1, 4, 5, 3}, 21);
  EXPECT_TRUE(all_close(matmul(c, d), naive_matmul(c, d), 1e-12, 1e-12));
  // Batched a whose rows do not merge (a permuted batch) times a plain matrix.
  const Tensor e = rand({4, 3, 5}, 22).transpose(0, 1);  // [3, 4, 5]
  EXPECT_TRUE(all_close(matmul(e, w), naive_matmul(e, w), 1e-12, 1e-12));
}

TEST_P(LinalgTest, MatmulOfVectorsFollowsTorchSemantics) {
  const Tensor v = rand({6}, 23), u = rand({6}, 24), m = rand({4, 6}, 25), bm = rand({2, 6, 3}, 26);
  const Tensor dot = matmul(v, u);
  EXPECT_EQ(dot.shape(), Shape{});
  double expected = 0;
  const auto hv = to_vector<double>(v), hu = to_vector<double>(u);
  for (size_t i = 0; i < hv.size(); ++i) expected += hv[i] * hu[i];
  EXPECT_NEAR(dot.item<double>(), expected, 1e-12);
  const Tensor mv = matmul(m, v);
  EXPECT_EQ(mv.shape(), Shape{4});
  EXPECT_TRUE(all_close(mv, naive_matmul(m, v.reshape({6, 1})).reshape({4}), 1e-12, 1e-12));
  const Tensor vb = matmul(v, bm);
  EXPECT_EQ(vb.shape(), (Shape{2, 3}));
  EXPECT_TRUE(all_close(vb, naive_matmul(v.reshape({1, 6}), bm).reshape({2, 3}), 1e-12, 1e-12));
}

TEST_P(LinalgTest, MatmulOfInt64MatchesNaive) {
  std::vector<int64_t> va(5 * 3), vb(3 * 4);
  for (size_t i = 0; i < va.size(); ++i) va[i] = static_cast<int64_t>(i * 7 % 11) - 5;
  for (size_t i = 0; i < vb.size(); ++i) vb[i] = static_cast<int64_t>(i * 5 % 9) - 4;
  const Tensor a = from_vector(va, {5, 3}).to(device()), b = from_vector(vb, {3, 4}).to(device());
  const std::vector<int64_t> got = to_vector<int64_t>(matmul(a, b));
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t j = 0; j < 4; ++j) {
      int64_t acc = 0;
      for (int64_t p = 0; p < 3; ++p) acc += va[i * 3 + p] * vb[p * 4 + j];
      EXPECT_EQ(got[i * 4 + j], acc) << i << "," << j;
    }
  // Transposed int64 operand.
  const Tensor at = from_vector(va, {5, 3}).to(device()).t();  // [3, 5]
  EXPECT_TRUE(all_close(matmul(at, a), naive_matmul(at, a), 0, 0));
}

TEST_P(LinalgTest, MatmulWithEmptyInnerDimIsZero) {
  const Tensor a = rand({3, 0}, 27), b = rand({0, 4}, 28);
  const Tensor out = matmul(a, b);
  EXPECT_EQ(out.shape(), (Shape{3, 4}));
  for (double x : to_vector<double>(out)) EXPECT_EQ(x, 0.0);
}

TEST_P(LinalgTest, MatmulGradients) {
  const Tensor a = leaf(rand({4, 5}, 30)), b = leaf(rand({5, 3}, 31));
  EXPECT_TRUE(gradcheck([](const TensorList& x) { return matmul(x[0], x[1]); }, {a, b}));
  EXPECT_TRUE(gradcheck([](const TensorList& x) { return matmul(x[0].t(), x[1].t()); },
                        {leaf(rand({5, 4}, 32)), leaf(rand({3, 5}, 33))}));
  // Broadcast batch: the gradient of the broadcast operand sums over the batch.
  EXPECT_TRUE(gradcheck([](const TensorList& x) { return matmul(x[0], x[1]); },
                        {leaf(rand({2, 1, 3, 4}, 34)), leaf(rand({3, 4, 2}, 35))}));
  EXPECT_TRUE(gradcheck([](const TensorList& x) { return matmul(x[0], x[1]); },
                        {leaf(rand({2, 3, 4}, 36)), leaf(rand({4, 2}, 37))}));
  EXPECT_TRUE(gradcheck([](const TensorList& x) { return matmul(x[0], x[1]); },
                        {leaf(rand({4}, 38)), leaf(rand({2, 4, 3}, 39))}));
  EXPECT_TRUE(gradcheck([](const TensorList& x) { return matmul(x[0], x[1]); },
                        {leaf(rand({4}, 40)), leaf(rand({4}, 41))}));
}

TEST_P(LinalgTest, MatmulDoubleBackward) {
  EXPECT_TRUE(gradgradcheck([](const TensorList& x) { return matmul(x[0], x[1]); },
                            {leaf(rand({3, 4}, 42)), leaf(rand({4, 2}, 43))}));
  EXPECT_TRUE(gradgradcheck([](const TensorList& x) { return matmul(x[0], x[1]); },
                            {leaf(rand({2, 3, 4}, 44)), leaf(rand({4, 2}, 45))}));
}

TEST_P(LinalgTest, MatmulRejectsBadInput) {
  EXPECT_TRUE(throws_error_mentioning([&] { matmul(rand({3, 4}, 46), rand({5, 2}, 47)); }, {"matmul", "[3, 4]", "[5, 2]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { matmul(rand({2, 3, 4}, 48), rand({3, 5, 2}, 49)); },
                          {"matmul", "[2, 3, 4]", "[3, 5, 2]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { matmul(rand({3}, 50), rand({4}, 51)); }, {"matmul", "[3]", "[4]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { matmul(rand({2, 3}, 52), rand({3, 2}, 53, DType::f32)); }, {"matmul", "float32"}));
  // Batch dims that do not broadcast.
  EXPECT_TRUE(throws_error_mentioning([&] { matmul(rand({2, 3, 4}, 54), rand({3, 4, 2}, 55)); }, {"matmul"}));
}

// Plain-loop reference of y = x W^T + b on host copies (x: [rows, in]).
Tensor naive_linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  const int64_t in = w.size(1), out = w.size(0), rows = x.numel() / in;
  const auto vx = to_vector<double>(x), vw = to_vector<double>(w);
  const auto vb = b.defined() ? to_vector<double>(b) : std::vector<double>(out, 0.0);
  std::vector<double> y(rows * out);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double acc = vb[o];
      for (int64_t i = 0; i < in; ++i) acc += vx[r * in + i] * vw[o * in + i];
      y[r * out + o] = acc;
    }
  Shape shape(x.shape().begin(), x.shape().end() - 1);
  shape.push_back(out);
  return from_vector(y, shape);
}

TEST_P(LinalgTest, LinearMatchesNaiveLoops) {
  const Tensor w = rand({5, 7}, 60), b = rand({5}, 61);
  for (const Shape& xs : {Shape{3, 7}, Shape{2, 3, 7}, Shape{7}}) {
    const Tensor x = rand(xs, 62);
    EXPECT_TRUE(all_close(linear(x, w, b), naive_linear(x, w, b), 1e-12, 1e-12)) << shape_str(xs);
    EXPECT_TRUE(all_close(linear(x, w), naive_linear(x, w, Tensor()), 1e-12, 1e-12)) << shape_str(xs);
  }
  // Strided input and a weight that is itself a transposed view; f32.
  const Tensor xt = rand({7, 4}, 63, DType::f32).t(), wt = rand({7, 5}, 64, DType::f32).t();
  const Tensor bf = rand({5}, 65, DType::f32);
  EXPECT_TRUE(all_close(linear(xt, wt, bf), naive_linear(xt, wt, bf), 1e-5, 1e-5));
  // Input whose leading dims do not merge (permuted batch).
  const Tensor xp = rand({3, 2, 7}, 66).transpose(0, 1);
  EXPECT_TRUE(all_close(linear(xp, w, b), naive_linear(xp, w, b), 1e-12, 1e-12));
}

TEST_P(LinalgTest, LinearGradientsAndDoubleBackward) {
  const TensorFn with_bias = [](const TensorList& x) { return linear(x[0], x[1], x[2]); };
  EXPECT_TRUE(gradcheck(with_bias, {leaf(rand({3, 4}, 70)), leaf(rand({2, 4}, 71)), leaf(rand({2}, 72))}));
  EXPECT_TRUE(gradcheck(with_bias, {leaf(rand({2, 3, 4}, 73)), leaf(rand({2, 4}, 74)), leaf(rand({2}, 75))}));
  EXPECT_TRUE(gradcheck([](const TensorList& x) { return linear(x[0], x[1]); },
                        {leaf(rand({4}, 76)), leaf(rand({3, 4}, 77))}));
  EXPECT_TRUE(gradgradcheck(with_bias, {leaf(rand({3, 4}, 78)), leaf(rand({2, 4}, 79)), leaf(rand({2}, 80))}));
  // The WGAN-GP pattern: penalise the input gradient of tanh(linear(x)), then differentiate w.r.t. W.
  EXPECT_TRUE(gradgradcheck([](const TensorList& x) { return tanh(linear(x[0], x[1], x[2])); },
                            {leaf(rand({3, 4}, 81)), leaf(rand({2, 4}, 82)), leaf(rand({2}, 83))}));
}

TEST_P(LinalgTest, LinearRejectsBadInput) {
  EXPECT_TRUE(throws_error_mentioning([&] { linear(rand({3, 4}, 84), rand({2, 5}, 85)); }, {"linear", "[3, 4]", "[2, 5]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { linear(rand({3, 4}, 86), rand({2, 4}, 87), rand({3}, 88)); }, {"linear", "[3]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { linear(rand({3, 4}, 89), rand({4}, 90)); }, {"linear", "[4]"}));
}

// Host p-norm of x [rows, cols] along dim 1.
std::vector<double> naive_row_norms(const Tensor& x, double p) {
  const auto v = to_vector<double>(x);
  const int64_t rows = x.size(0), cols = x.size(1);
  std::vector<double> out(rows);
  for (int64_t r = 0; r < rows; ++r) {
    double acc = 0;
    for (int64_t c = 0; c < cols; ++c) {
      const double a = std::abs(v[r * cols + c]);
      acc = std::isinf(p) ? std::max(acc, a) : acc + std::pow(a, p);
    }
    out[r] = std::isinf(p) ? acc : std::pow(acc, 1.0 / p);
  }
  return out;
}

TEST_P(LinalgTest, NormMatchesNaiveLoops) {
  const Tensor x = rand({4, 6}, 91);
  for (double p : {2.0, 1.0, 3.0, std::numeric_limits<double>::infinity()}) {
    const Tensor n = norm(x, p, {1});
    EXPECT_EQ(n.shape(), Shape{4});
    EXPECT_TRUE(all_close(n, from_vector(naive_row_norms(x, p), {4}), 1e-12, 1e-12)) << "p = " << p;
  }
  const Tensor nk = norm(x, 2.0, {1}, true);
  EXPECT_EQ(nk.shape(), (Shape{4, 1}));
  double total = 0;
  for (double v : to_vector<double>(x)) total += v * v;
  EXPECT_NEAR(norm(x).item<double>(), std::sqrt(total), 1e-12);
  // Along dim 0 of a transposed view equals along dim 1 of the original.
  EXPECT_TRUE(all_close(norm(x.t(), 2.0, {0}), from_vector(naive_row_norms(x, 2.0), {4}), 1e-12, 1e-12));
}

TEST_P(LinalgTest, NormGradients) {
  for (double p : {2.0, 3.0, 1.5}) {
    EXPECT_TRUE(gradcheck([p](const TensorList& x) { return norm(x[0], p, {1}); }, {leaf(rand({3, 5}, 92))}))
        << "p = " << p;
  }
  EXPECT_TRUE(gradcheck([](const TensorList& x) { return norm(x[0]); }, {leaf(rand({3, 5}, 93))}));
  EXPECT_TRUE(gradcheck([](const TensorList& x) { return norm(x[0], 2.0, {0}, true); }, {leaf(rand({3, 5}, 94))}));
  EXPECT_TRUE(gradgradcheck([](const TensorList& x) { return norm(x[0], 2.0, {1}); }, {leaf(rand({3, 5}, 95))}));
  EXPECT_TRUE(gradgradcheck([](const TensorList& x) { return norm(x[0]); }, {leaf(rand({2, 3}, 96))}));
}

TEST_P(LinalgTest, NormGradientAtZeroIsZero) {
  // Row 1 is all zeros: its L2 gradient must be exactly 0 (not NaN), the other rows x / ||x||.
  Tensor x = rand({3, 4}, 97).to(kCPU);
  std::vector<double> v = to_vector<double>(x);
  for (int c = 0; c < 4; ++c) v[4 + c] = 0.0;
  x = leaf(from_vector(v, {3, 4}).to(device()));
  const Tensor n = norm(x, 2.0, {1});
  const TensorList g = autograd::grad({sum(n)}, {x}, {}, true);
  const auto hg = to_vector<double>(g[0]);
  const auto hn = to_vector<double>(n);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) {
      const double expected = r == 1 ? 0.0 : v[r * 4 + c] / hn[r];
      EXPECT_NEAR(hg[r * 4 + c], expected, 1e-12) << r << "," << c;
    }
  // Double backward through the zero row stays finite (the WGAN-GP penalty's norm of a gradient).
  const TensorList gg = autograd::grad({sum(mul(g[0], g[0]))}, {x});
  for (double e : to_vector<double>(gg[0])) EXPECT_TRUE(std::isfinite(e));
}

TEST_P(LinalgTest, NormRejectsBadInput) {
  EXPECT_TRUE(throws_error_mentioning([&] { norm(rand({3}, 98), 0.0); }, {"norm", "p"}));
  EXPECT_TRUE(throws_error_mentioning([&] { norm(rand({3}, 99), 2.0, {1}); }, {"dim"}));
}

TEST_P(LinalgTest, PairwiseSqDistMatchesNaiveLoops) {
  const Tensor a = rand({5, 3}, 100), b = rand({7, 3}, 101);
  const auto va = to_vector<double>(a), vb = to_vector<double>(b);
  std::vector<double> expected(5 * 7);
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 7; ++j) {
      double acc = 0;
      for (int d = 0; d < 3; ++d) acc += (va[i * 3 + d] - vb[j * 3 + d]) * (va[i * 3 + d] - vb[j * 3 + d]);
      expected[i * 7 + j] = acc;
    }
  EXPECT_TRUE(all_close(pairwise_sq_dist(a, b), from_vector(expected, {5, 7}), 1e-12, 1e-12));
  // Distance of a set to itself: zero diagonal, never negative.
  const auto self = to_vector<double>(pairwise_sq_dist(a, a));
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(self[i * 5 + i], 0.0, 1e-12);
  for (double d : self) EXPECT_GE(d, 0.0);
}

TEST_P(LinalgTest, PairwiseSqDistGradientsAndDoubleBackward) {
  const TensorFn f = [](const TensorList& x) { return pairwise_sq_dist(x[0], x[1]); };
  EXPECT_TRUE(gradcheck(f, {leaf(rand({4, 3}, 102)), leaf(rand({5, 3}, 103))}));
  EXPECT_TRUE(gradgradcheck(f, {leaf(rand({3, 2}, 104)), leaf(rand({4, 2}, 105))}));
}

TEST_P(LinalgTest, PairwiseSqDistRejectsBadInput) {
  EXPECT_TRUE(throws_error_mentioning([&] { pairwise_sq_dist(rand({4, 3}, 106), rand({5, 2}, 107)); },
                          {"pairwise_sq_dist", "[4, 3]", "[5, 2]"}));
}

GANTRY_INSTANTIATE_DEVICE_TEST(LinalgTest);

// What the CPU gemm kernel was last handed, recorded by a wrapper installed in its table slot.
struct GemmCall {
  const void* a = nullptr;
  const void* b = nullptr;
  bool trans_a = false, trans_b = false;
  int calls = 0;
};
GemmCall g_last_gemm;
GemmKernel g_cpu_gemm = nullptr;

void recording_gemm(Tensor& c, const Tensor& a, const Tensor& b, bool ta, bool tb, double alpha, double beta) {
  g_last_gemm = {a.raw_data(), b.raw_data(), ta, tb, g_last_gemm.calls + 1};
  g_cpu_gemm(c, a, b, ta, tb, alpha, beta);
}

// Installs recording_gemm for one test and puts the real kernel back afterwards.
class GemmRecorder {
 public:
  GemmRecorder() {
    g_cpu_gemm = gemm_kernel.get(DeviceType::CPU);
    gemm_kernel.table[static_cast<int>(DeviceType::CPU)] = &recording_gemm;
    g_last_gemm = {};
  }
  ~GemmRecorder() { gemm_kernel.table[static_cast<int>(DeviceType::CPU)] = g_cpu_gemm; }
};

TEST(LinalgCpuTest, TransposedAndSlicedOperandsReachGemmWithoutCopies) {
  GemmRecorder recorder;
  const Tensor a_stored = random_uniform({13, 7}, 1), b_stored = random_uniform({5, 13}, 2);
  const Tensor out = matmul(a_stored.t(), b_stored.t());
  EXPECT_EQ(g_last_gemm.calls, 1);
  EXPECT_EQ(g_last_gemm.a, a_stored.raw_data());  // the stored matrices themselves, flagged transposed
  EXPECT_EQ(g_last_gemm.b, b_stored.raw_data());
  EXPECT_TRUE(g_last_gemm.trans_a);
  EXPECT_TRUE(g_last_gemm.trans_b);
  EXPECT_TRUE(all_close(out, naive_matmul(a_stored.t(), b_stored.t()), 1e-12, 1e-12));
  // A column range keeps its leading dimension: passed in place, not transposed.
  const Tensor wide = random_uniform({6, 20}, 3);
  const Tensor cols = wide.slice(1, 4, 17);
  matmul(cols, random_uniform({13, 3}, 4));
  EXPECT_EQ(g_last_gemm.a, cols.raw_data());
  EXPECT_FALSE(g_last_gemm.trans_a);
  // linear passes W itself with trans_b (y = x W^T).
  const Tensor w = random_uniform({4, 7}, 5);
  linear(random_uniform({3, 7}, 6), w, random_uniform({4}, 7));
  EXPECT_EQ(g_last_gemm.b, w.raw_data());
  EXPECT_TRUE(g_last_gemm.trans_b);
  // Every other column cannot be passed in place: it is copied.
  const Tensor stepped = wide.slice(1, 0, 20, 2);
  matmul(stepped, random_uniform({10, 3}, 8));
  EXPECT_NE(g_last_gemm.a, stepped.raw_data());
}

}  // namespace
}  // namespace gantry::testing
