// cat, stack, split, chunk: values against host index math (including views as inputs), gradients,
// and bad input.
#include "tests/support/error_matchers.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_util.h"

namespace gantry::testing {
namespace {

class ShapeOpsTest : public DeviceTest {
 protected:
  Tensor rand(const Shape& s, uint64_t seed, DType dt = DType::f64) {
    return random_uniform(s, seed, -1.0, 1.0, dt, device());
  }
};

// Element (r, c) of a 2-D tensor's host copy.
double at2(const std::vector<double>& v, const Tensor& t, int64_t r, int64_t c) { return v[r * t.size(1) + c]; }

TEST_P(ShapeOpsTest, CatAlongEachDimMatchesHostCopies) {
  const Tensor a = rand({2, 3}, 1), b = rand({4, 3}, 2), c = rand({1, 3}, 3);
  const Tensor rows = cat({a, b, c}, 0);
  ASSERT_EQ(rows.shape(), (Shape{7, 3}));
  const auto vr = to_vector<double>(rows), va = to_vector<double>(a), vb = to_vector<double>(b),
             vc = to_vector<double>(c);
  for (int64_t j = 0; j < 3; ++j) {
    for (int64_t i = 0; i < 2; ++i) EXPECT_EQ(at2(vr, rows, i, j), at2(va, a, i, j));
    for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(at2(vr, rows, 2 + i, j), at2(vb, b, i, j));
    EXPECT_EQ(at2(vr, rows, 6, j), at2(vc, c, 0, j));
  }
  const Tensor d = rand({2, 5}, 4);
  const Tensor cols = cat({a, d}, -1);
  ASSERT_EQ(cols.shape(), (Shape{2, 8}));
  const auto vcols = to_vector<double>(cols), vd = to_vector<double>(d);
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t j = 0; j < 3; ++j) EXPECT_EQ(at2(vcols, cols, i, j), at2(va, a, i, j));
    for (int64_t j = 0; j < 5; ++j) EXPECT_EQ(at2(vcols, cols, i, 3 + j), at2(vd, d, i, j));
  }
}

TEST_P(ShapeOpsTest, CatOfViewsCopiesTheViewedElements) {
  const Tensor base = rand({5, 4}, 5);
  const Tensor tr = base.t();                        // [4, 5], transposed
  const Tensor sl = rand({4, 9}, 6).slice(1, 1, 9, 3);  // [4, 3], strided columns
  const Tensor out = cat({tr, sl}, 1);
  ASSERT_EQ(out.shape(), (Shape{4, 8}));
  const auto vo = to_vector<double>(out), vt = to_vector<double>(tr), vs = to_vector<double>(sl);
  for (int64_t i = 0; i < 4; ++i) {
    for (int64_t j = 0; j < 5; ++j) EXPECT_EQ(at2(vo, out, i, j), at2(vt, tr, i, j));
    for (int64_t j = 0; j < 3; ++j) EXPECT_EQ(at2(vo, out, i, 5 + j), at2(vs, sl, i, j));
  }
  // An empty piece is allowed and contributes nothing.
  const Tensor with_empty = cat({tr, rand({4, 0}, 7)}, 1);
  EXPECT_TRUE(all_close(with_empty, tr, 0, 0));
}

TEST_P(ShapeOpsTest, EmptyTensorsAreContiguousAndMoveBetweenDevices) {
  for (const Shape& shape : {Shape{2, 0, 2}, Shape{0, 3}, Shape{4, 0}}) {
    const Tensor t = empty(shape, DType::f64, device());
    EXPECT_TRUE(t.is_contiguous()) << shape_str(shape);
    EXPECT_EQ(t.to(kCPU).shape(), shape);
    EXPECT_EQ(t.to(kCPU).to(device()).shape(), shape);
  }
}

TEST_P(ShapeOpsTest, CatGradients) {
  EXPECT_TRUE(gradcheck([](const TensorList& x) { return cat({x[0], x[1].t(), x[2]}, 1); },
                        {leaf(rand({3, 2}, 8)), leaf(rand({4, 3}, 9)), leaf(rand({3, 1}, 10))}));
  EXPECT_TRUE(gradgradcheck([](const TensorList& x) { return mul(cat({x[0], x[1]}, 0), cat({x[1], x[0]}, 0)); },
                            {leaf(rand({2, 3}, 11)), leaf(rand({2, 3}, 12))}));
  // Only some inputs need grad: the others are skipped, the gradient still arrives.
  const Tensor a = leaf(rand({2, 3}, 13)), b = rand({1, 3}, 14);
  Tensor w = rand({3, 3}, 15);
  const TensorList g = autograd::grad({sum(mul(cat({b, a}, 0), w))}, {a});
  EXPECT_TRUE(all_close(g[0], w.slice(0, 1, 3), 0, 0));
}

TEST_P(ShapeOpsTest, StackInsertsANewDim) {
  const Tensor a = rand({2, 3}, 16), b = rand({2, 3}, 17);
  const Tensor s0 = stack({a, b});
  ASSERT_EQ(s0.shape(), (Shape{2, 2, 3}));
  EXPECT_TRUE(all_close(s0.select(0, 1), b, 0, 0));
  const Tensor s2 = stack({a, b}, -1);
  ASSERT_EQ(s2.shape(), (Shape{2, 3, 2}));
  EXPECT_TRUE(all_close(s2.select(2, 0), a, 0, 0));
  EXPECT_TRUE(all_close(s2.select(2, 1), b, 0, 0));
  EXPECT_TRUE(gradcheck([](const TensorList& x) { return stack({x[0], x[1], x[0]}, 1); },
                        {leaf(rand({2, 3}, 18)), leaf(rand({2, 3}, 19))}));
}

TEST_P(ShapeOpsTest, SplitAndChunkGiveTorchSizedViews) {
  const Tensor x = rand({7, 2}, 20);
  const TensorList parts = split(x, 3);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].shape(), (Shape{3, 2}));
  EXPECT_EQ(parts[2].shape(), (Shape{1, 2}));
  EXPECT_TRUE(all_close(cat(parts, 0), x, 0, 0));
  EXPECT_TRUE(all_close(parts[1], x.slice(0, 3, 6), 0, 0));
  // Views share the input's storage.
  EXPECT_EQ(parts[1].raw_data(), x.select(0, 3).raw_data());

  const TensorList c3 = chunk(x, 3);  // ceil(7 / 3) = 3 -> 3, 3, 1
  ASSERT_EQ(c3.size(), 3u);
  EXPECT_EQ(c3[2].shape(), (Shape{1, 2}));
  const TensorList c4 = chunk(rand({6, 2}, 21), 4);  // ceil(6 / 4) = 2 -> three chunks of 2 (torch)
  ASSERT_EQ(c4.size(), 3u);
  for (const Tensor& t : c4) EXPECT_EQ(t.shape(), (Shape{2, 2}));
  const TensorList cols = chunk(rand({2, 5}, 22), 2, 1);
  ASSERT_EQ(cols.size(), 2u);
  EXPECT_EQ(cols[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(cols[1].shape(), (Shape{2, 2}));
}

TEST_P(ShapeOpsTest, SplitGradients) {
  // Reorder and scale the pieces so a wrong piece-to-gradient mapping is visible.
  EXPECT_TRUE(gradcheck(
      [](const TensorList& x) {
        const TensorList p = split(x[0], 2, 1);
        return cat({mul(p[2], 3.0), p[0], mul(p[1], p[1])}, 1);
      },
      {leaf(rand({3, 5}, 23))}));
  EXPECT_TRUE(gradcheck(
      [](const TensorList& x) {
        const TensorList p = chunk(x[0], 2, 0);
        return mul(p[0], p[1]);
      },
      {leaf(rand({4, 3}, 24))}));
}

TEST_P(ShapeOpsTest, RejectsBadInput) {
  EXPECT_TRUE(throws_error_mentioning([&] { cat({rand({2, 3}, 25), rand({2, 4}, 26)}, 0); },
                                      {"cat", "[2, 4]", "[2, 3]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { cat({rand({2, 3}, 27), rand({2, 3}, 28, DType::f32)}, 0); },
                                      {"cat", "float32"}));
  EXPECT_TRUE(throws_error_mentioning([&] { cat({rand({2, 3}, 29), rand({3}, 30)}, 0); }, {"cat", "[3]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { cat({}, 0); }, {"cat"}));
  EXPECT_TRUE(throws_error_mentioning([&] { cat({rand({2, 3}, 31)}, 2); }, {"cat", "dim"}));
  EXPECT_TRUE(throws_error_mentioning([&] { stack({rand({2, 3}, 32), rand({3, 2}, 33)}); },
                                      {"stack", "[3, 2]", "[2, 3]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { split(rand({4}, 34), 0); }, {"split", "0"}));
  EXPECT_TRUE(throws_error_mentioning([&] { chunk(rand({4}, 35), 0); }, {"chunk", "0"}));
}

GANTRY_INSTANTIATE_DEVICE_TEST(ShapeOpsTest);

}  // namespace
}  // namespace gantry::testing
