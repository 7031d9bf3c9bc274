// index_select, gather, scatter_add and topk: values against host loops, gradients (gather and
// scatter_add are adjoints, so double backward closes), topk tie-breaking and the exactly-zero
// gradient of discarded entries, and out-of-range indices.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "tests/support/error_matchers.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_util.h"

namespace gantry::testing {
namespace {

class IndexTest : public DeviceTest {
 protected:
  Tensor rand(const Shape& s, uint64_t seed, DType dt = DType::f64) {
    return random_uniform(s, seed, -1.0, 1.0, dt, device());
  }
  Tensor idx(const std::vector<int64_t>& v, const Shape& s) { return from_vector(v, s).to(device()); }
};

TEST_P(IndexTest, IndexSelectPicksRowsAndColumns) {
  const Tensor x = rand({5, 4}, 1);
  const auto vx = to_vector<double>(x);
  const std::vector<int64_t> rows{4, 0, 4, 2};
  const Tensor r = index_select(x, 0, idx(rows, {4}));
  ASSERT_EQ(r.shape(), (Shape{4, 4}));
  const auto vr = to_vector<double>(r);
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 4; ++j) EXPECT_EQ(vr[i * 4 + j], vx[rows[i] * 4 + j]);
  const std::vector<int64_t> cols{3, 1};
  const Tensor c = index_select(x.t(), 0, idx(cols, {2}));  // rows of a transposed view = columns of x
  ASSERT_EQ(c.shape(), (Shape{2, 5}));
  const auto vc = to_vector<double>(c);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 5; ++j) EXPECT_EQ(vc[i * 5 + j], vx[j * 4 + cols[i]]);
  const Tensor c1 = index_select(x, -1, idx(cols, {2}));
  EXPECT_TRUE(all_close(c1, c.t(), 0, 0));
}

TEST_P(IndexTest, GatherFollowsTorchSemantics) {
  const Tensor x = rand({3, 4}, 2);
  const auto vx = to_vector<double>(x);
  // dim 1: out[i][j] = x[i][index[i][j]] with an index narrower than x.
  const std::vector<int64_t> i1{3, 0, 1, 1, 2, 2};
  const auto v1 = to_vector<double>(gather(x, 1, idx(i1, {3, 2})));
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 2; ++j) EXPECT_EQ(v1[i * 2 + j], vx[i * 4 + i1[i * 2 + j]]);
  // dim 0: out[i][j] = x[index[i][j]][j], index with fewer rows and columns than x.
  const std::vector<int64_t> i0{2, 0, 1, 0, 0, 2};
  const auto v0 = to_vector<double>(gather(x, 0, idx(i0, {2, 3})));
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j) EXPECT_EQ(v0[i * 3 + j], vx[i0[i * 3 + j] * 4 + j]);
  // A strided input gives the same as its contiguous copy.
  const Tensor xt = rand({4, 3}, 3).t();
  EXPECT_TRUE(all_close(gather(xt, 1, idx(i1, {3, 2})), gather(xt.contiguous(), 1, idx(i1, {3, 2})), 0, 0));
}

TEST_P(IndexTest, ScatterAddAccumulatesRepeatedIndices) {
  const Tensor src = rand({2, 3}, 4);
  const auto vs = to_vector<double>(src);
  const std::vector<int64_t> ind{1, 1, 0, 3, 1, 1};  // row 0 hits column 1 twice
  const Tensor out = scatter_add({2, 4}, 1, idx(ind, {2, 3}), src);
  std::vector<double> expected(8, 0.0);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j) expected[i * 4 + ind[i * 3 + j]] += vs[i * 3 + j];
  EXPECT_TRUE(all_close(out, from_vector(expected, {2, 4}), 1e-15, 0));
}

TEST_P(IndexTest, GradientsAndDoubleBackward) {
  const Tensor rows = idx({2, 0, 2, 1}, {4});
  EXPECT_TRUE(gradcheck([&](const TensorList& x) { return index_select(x[0], 0, rows); }, {leaf(rand({3, 5}, 5))}));
  EXPECT_TRUE(gradcheck([&](const TensorList& x) { return index_select(x[0], 1, rows); }, {leaf(rand({2, 3}, 6))}));
  const Tensor g = idx({1, 0, 0, 2, 2, 2}, {2, 3});
  EXPECT_TRUE(gradcheck([&](const TensorList& x) { return gather(x[0], 1, g); }, {leaf(rand({2, 4}, 7))}));
  EXPECT_TRUE(gradcheck([&](const TensorList& x) { return scatter_add({2, 4}, 1, g, x[0]); }, {leaf(rand({2, 3}, 8))}));
  // Second order: products make the Hessian non-zero.
  EXPECT_TRUE(gradgradcheck([&](const TensorList& x) { return mul(gather(x[0], 1, g), gather(x[0], 1, g)); },
                            {leaf(rand({2, 4}, 9))}));
  EXPECT_TRUE(gradgradcheck(
      [&](const TensorList& x) { return mul(index_select(x[0], 0, rows), index_select(x[1], 0, rows)); },
      {leaf(rand({3, 2}, 10)), leaf(rand({3, 2}, 11))}));
  EXPECT_TRUE(gradgradcheck([&](const TensorList& x) { return mul(scatter_add({2, 4}, 1, g, x[0]), x[1]); },
                            {leaf(rand({2, 3}, 12)), leaf(rand({2, 4}, 13))}));
}

TEST_P(IndexTest, TopkMatchesSortedHostCopy) {
  const Tensor x = rand({4, 9}, 14);
  const auto vx = to_vector<double>(x);
  for (bool largest : {true, false}) {
    const auto [values, indices] = topk(x, 3, 1, largest);
    ASSERT_EQ(values.shape(), (Shape{4, 3}));
    ASSERT_EQ(indices.dtype(), DType::i64);
    const auto vv = to_vector<double>(values);
    const auto vi = to_vector<int64_t>(indices);
    for (int64_t r = 0; r < 4; ++r) {
      std::vector<int64_t> order(9);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return largest ? vx[r * 9 + a] > vx[r * 9 + b] : vx[r * 9 + a] < vx[r * 9 + b];
      });
      for (int64_t j = 0; j < 3; ++j) {
        EXPECT_EQ(vi[r * 3 + j], order[j]);
        EXPECT_EQ(vv[r * 3 + j], vx[r * 9 + order[j]]);
      }
    }
  }
  // Along dim 0 of a strided view.
  const Tensor xt = x.t();  // [9, 4]
  const auto [vt, it] = topk(xt, 2, 0);
  EXPECT_TRUE(all_close(vt.t(), std::get<0>(topk(x, 2, 1)), 0, 0));
  EXPECT_TRUE(all_close(it.t(), std::get<1>(topk(x, 2, 1)), 0, 0));
}

TEST_P(IndexTest, TopkBreaksTiesByLowerIndex) {
  const Tensor x = from_vector(std::vector<double>{0.5, 2.0, -1.0, 2.0, 0.5, 2.0, -1.0}, {7}).to(device());
  const auto [v, i] = topk(x, 4);
  EXPECT_EQ(to_vector<int64_t>(i), (std::vector<int64_t>{1, 3, 5, 0}));
  EXPECT_EQ(to_vector<double>(v), (std::vector<double>{2.0, 2.0, 2.0, 0.5}));
  const auto [vs, is] = topk(x, 3, 0, false);
  EXPECT_EQ(to_vector<int64_t>(is), (std::vector<int64_t>{2, 6, 0}));
  EXPECT_EQ(to_vector<double>(vs), (std::vector<double>{-1.0, -1.0, 0.5}));
  // float32 ties too.
  const auto [vf, jf] = topk(x.to(DType::f32), 2);
  EXPECT_EQ(to_vector<int64_t>(jf), (std::vector<int64_t>{1, 3}));
}

TEST_P(IndexTest, TopkNaNRanksAboveNumbers) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor x = from_vector(std::vector<double>{1.0, nan, 3.0, nan}, {4}).to(device());
  EXPECT_EQ(to_vector<int64_t>(std::get<1>(topk(x, 3))), (std::vector<int64_t>{1, 3, 2}));
  EXPECT_EQ(to_vector<int64_t>(std::get<1>(topk(x, 2, 0, false))), (std::vector<int64_t>{0, 2}));
}

TEST_P(IndexTest, TopkGradientIsExactlyZeroForDiscardedEntries) {
  // The pinned top-k protocol: mean over the kept k critic scores; the discarded scores get exactly 0.
  const Tensor scores = leaf(rand({8}, 15));
  const auto [kept, kept_index] = topk(scores, 5);
  const TensorList g = autograd::grad({mean(kept)}, {scores});
  const auto vg = to_vector<double>(g[0]);
  const auto vi = to_vector<int64_t>(kept_index);
  for (int64_t e = 0; e < 8; ++e) {
    const bool is_kept = std::find(vi.begin(), vi.end(), e) != vi.end();
    EXPECT_EQ(vg[e], is_kept ? 1.0 / 5 : 0.0) << "element " << e;
  }
  EXPECT_TRUE(gradcheck([](const TensorList& x) { return std::get<0>(topk(x[0], 3, 1)); }, {leaf(rand({3, 6}, 16))}));
  EXPECT_TRUE(gradgradcheck([](const TensorList& x) { return pow(std::get<0>(topk(x[0], 2, 0)), 2.0); },
                            {leaf(rand({5, 2}, 17))}));
}

TEST_P(IndexTest, RejectsBadInput) {
  const Tensor x = rand({3, 4}, 18);
  EXPECT_TRUE(throws_error_mentioning([&] { index_select(x, 0, idx({0, 3}, {2})); },
                                      {"index_select", "3", "size 3"}));
  EXPECT_TRUE(throws_error_mentioning([&] { index_select(x, 1, idx({-1}, {1})); }, {"index_select", "-1"}));
  EXPECT_TRUE(throws_error_mentioning([&] { index_select(x, 0, idx({0, 1}, {1, 2})); }, {"index_select", "1-D"}));
  EXPECT_TRUE(throws_error_mentioning([&] { index_select(x, 0, rand({2}, 19)); }, {"index_select", "int64"}));
  EXPECT_TRUE(throws_error_mentioning([&] { gather(x, 1, idx({0, 4}, {1, 2})); }, {"gather", "4", "size 4"}));
  EXPECT_TRUE(throws_error_mentioning([&] { gather(x, 1, idx({0, 1, 2, 0, 1}, {5, 1})); }, {"gather", "[5, 1]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { scatter_add({3, 2}, 1, idx({0, 2}, {1, 2}), rand({1, 2}, 20)); },
                                      {"scatter_add", "2", "size 2"}));
  EXPECT_TRUE(throws_error_mentioning([&] { scatter_add({3, 2}, 1, idx({0, 1}, {1, 2}), rand({2, 2}, 21)); },
                                      {"scatter_add", "[2, 2]", "[1, 2]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { topk(x, 5, 1); }, {"topk", "k = 5", "size 4"}));
  EXPECT_TRUE(throws_error_mentioning([&] { topk(x, -1, 1); }, {"topk", "-1"}));
}

GANTRY_INSTANTIATE_DEVICE_TEST(IndexTest);

}  // namespace
}  // namespace gantry::testing
