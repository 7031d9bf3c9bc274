// Precision/recall and density/coverage against brute-force NumPy k-NN balls
// (tests/golden/make_metrics_golden.py), their definitions on hand-built point sets (self-exclusion,
// duplicates, closed balls), blocked distances, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "eval/precision_recall.h"
#include "tests/support/error_matchers.h"
#include "tests/support/golden_file.h"
#include "tests/support/test_util.h"

namespace gantry {
namespace {

using eval::PrecisionRecallOptions;
using testing::throws_error_mentioning;

const testing::GoldenFile& golden() { return testing::cached_golden_file("metrics_golden.safetensors"); }

double max_relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]) / std::abs(b[i]));
  return worst;
}

TEST(PrecisionRecall, MatchesBruteForceNumpyKnn) {
  const Tensor real = golden().tensor("pr.real"), fake = golden().tensor("pr.fake");
  for (int64_t k : {3, 5}) {
    const std::string p = "pr.k" + std::to_string(k) + ".";
    PrecisionRecallOptions o;
    o.k = k;
    const auto r = eval::precision_recall(real, fake, o);
    EXPECT_EQ(r.k, k);
    // Shares of counts: equal as doubles.
    EXPECT_DOUBLE_EQ(r.precision, golden().values(p + "precision")[0]) << "k " << k;
    EXPECT_DOUBLE_EQ(r.recall, golden().values(p + "recall")[0]) << "k " << k;
    EXPECT_DOUBLE_EQ(r.density, golden().values(p + "density")[0]) << "k " << k;
    EXPECT_DOUBLE_EQ(r.coverage, golden().values(p + "coverage")[0]) << "k " << k;
    EXPECT_LE(max_relative_difference(r.real_radii, golden().values(p + "real_radii")), 1e-12) << "k " << k;
    EXPECT_LE(max_relative_difference(r.fake_radii, golden().values(p + "fake_radii")), 1e-12) << "k " << k;
  }
}

// Blocks change the GEMM's shape, and OpenBLAS may round a row's distances differently by shape (it
// did on an AMD EPYC): the radii agree to rounding, the counts exactly (no distance lies that close to
// a radius in the fixture).
TEST(PrecisionRecall, BlockedDistancesGiveTheSameResults) {
  const Tensor real = golden().tensor("pr.real"), fake = golden().tensor("pr.fake");
  const auto whole = eval::precision_recall(real, fake);
  for (int64_t rows : {1, 7, 79}) {
    PrecisionRecallOptions o;
    o.block_rows = rows;
    const auto blocked = eval::precision_recall(real.to(DType::f32).to(DType::f64), fake, o);
    const auto blocked64 = eval::precision_recall(real, fake, o);
    EXPECT_LE(max_relative_difference(blocked64.real_radii, whole.real_radii), 1e-13) << rows;
    EXPECT_LE(max_relative_difference(blocked64.fake_radii, whole.fake_radii), 1e-13) << rows;
    EXPECT_EQ(blocked64.precision, whole.precision);
    EXPECT_EQ(blocked64.recall, whole.recall);
    EXPECT_EQ(blocked64.density, whole.density);
    EXPECT_EQ(blocked64.coverage, whole.coverage);
    EXPECT_EQ(blocked.k, 3);
  }
}

// Points on a line (1-D features).
Tensor line(const std::vector<double>& xs) { return from_vector(xs, {static_cast<int64_t>(xs.size()), 1}); }

TEST(PrecisionRecall, BallsExcludeThePointItselfAndCountDuplicates) {
  // Reals 0, 1, 3, 7 with k = 1: radii 1, 1, 2, 4. The duplicate pair of fakes (5, 5) has radius 0.
  const Tensor real = line({0, 1, 3, 7}), fake = line({5, 5, 20});
  PrecisionRecallOptions o;
  o.k = 1;
  const auto r = eval::precision_recall(real, fake, o);
  EXPECT_EQ(r.real_radii, (std::vector<double>{1, 1, 2, 4}));
  EXPECT_EQ(r.fake_radii, (std::vector<double>{0, 0, 15}));
  // Fakes at 5 lie in the ball of 3 (|5-3| = 2 <= 2: closed) and of 7 (2 <= 4); 20 in none.
  EXPECT_DOUBLE_EQ(r.precision, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.density, 4.0 / 3.0);  // memberships 2 + 2 + 0 over k N_f = 3
  // Reals in a fake ball: the ball of 20 has radius 15 and holds 7 (13) only; 5's balls hold nothing.
  EXPECT_DOUBLE_EQ(r.recall, 1.0 / 4.0);
  // Nearest fake of 3 is 5 (2 <= 2), of 7 is 5 (2 <= 4); of 0 (5 > 1) and 1 (4 > 1) outside.
  EXPECT_DOUBLE_EQ(r.coverage, 2.0 / 4.0);
}

TEST(PrecisionRecall, IdenticalSetsArePerfect) {
  const Tensor x = golden().tensor("pr.real");
  const auto r = eval::precision_recall(x, x);
  EXPECT_EQ(r.precision, 1.0);
  EXPECT_EQ(r.recall, 1.0);
  EXPECT_EQ(r.coverage, 1.0);
  EXPECT_GE(r.density, 1.0);  // each point is in its own ball and those of its k neighbours' balls
}

TEST(PrecisionRecall, RefusesBadInput) {
  EXPECT_TRUE(throws_error_mentioning(
      [] {
        eval::precision_recall(zeros({10, 4}), zeros({10, 3}));
      },
      {"dimension 4", "dimension 3"}));
  EXPECT_TRUE(throws_error_mentioning(
      [] {
        eval::precision_recall(zeros({3, 4}), zeros({10, 4}));
      },
      {"real features", "3 rows", "k = 3"}));
  PrecisionRecallOptions o;
  o.k = 0;
  EXPECT_TRUE(throws_error_mentioning([&] { eval::precision_recall(zeros({10, 4}), zeros({10, 4}), o); }, {"k must"}));
  std::vector<float> v(10 * 4, 0.5f);
  v[9 * 4 + 3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        eval::precision_recall(zeros({10, 4}), from_vector(v, {10, 4}));
      },
      {"fake features", "non-finite", "row 9", "column 3"}));
}

}  // namespace
}  // namespace gantry
