// The Inception Score against torch-fidelity's arithmetic restated in NumPy
// (tests/golden/make_metrics_golden.py), NumPy's RandomState permutation, the known answers of
// uniform and one-hot predictions, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "eval/inception_score.h"
#include "eval/numpy_permutation.h"
#include "tests/support/error_matchers.h"
#include "tests/support/golden_file.h"
#include "tests/support/test_util.h"

namespace gantry {
namespace {

using eval::InceptionScoreOptions;
using testing::throws_error_mentioning;

const testing::GoldenFile& golden() { return testing::cached_golden_file("metrics_golden.safetensors"); }

double relative_difference(double actual, double expected) { return std::abs(actual - expected) / std::abs(expected); }

void expect_score_matches(const eval::InceptionScore& s, const std::string& prefix, double rtol) {
  EXPECT_LE(relative_difference(s.mean, golden().values(prefix + ".mean")[0]), rtol) << prefix << " mean " << s.mean;
  EXPECT_LE(relative_difference(s.std, golden().values(prefix + ".std")[0]), rtol) << prefix << " std " << s.std;
  const std::vector<double> splits = golden().values(prefix + ".splits");
  ASSERT_EQ(s.split_scores.size(), splits.size());
  for (size_t i = 0; i < splits.size(); ++i)
    EXPECT_LE(relative_difference(s.split_scores[i], splits[i]), rtol) << prefix << " split " << i;
}

TEST(NumpyPermutation, ReproducesRandomStatePermutation) {
  for (const auto& [seed, n] :
       std::vector<std::pair<uint32_t, int64_t>>{{2020, 120}, {2020, 1000}, {0, 37}, {123456789, 700}}) {
    const auto expected = to_vector<int64_t>(golden().tensor("perm." + std::to_string(seed) + "." + std::to_string(n)));
    EXPECT_EQ(eval::numpy_legacy_permutation(n, seed), expected) << "seed " << seed << ", n " << n;
  }
  EXPECT_TRUE(eval::numpy_legacy_permutation(0, 1).empty());
  EXPECT_EQ(eval::numpy_legacy_permutation(1, 1), std::vector<int64_t>{0});
}

TEST(NumpyPermutation, Mt19937MatchesTheReferenceSequence) {
  // init_genrand(5489)'s 10,000th output is 4123659995 (the C++ standard's check of std::mt19937).
  eval::Mt19937 rng(5489u);
  uint32_t v = 0;
  for (int i = 0; i < 10000; ++i) v = rng.next_uint32();
  EXPECT_EQ(v, 4123659995u);
}

TEST(InceptionScore, MatchesTorchFidelityInInputOrderAndShuffled) {
  const Tensor logits = golden().tensor("is.logits");
  expect_score_matches(eval::inception_score_from_logits(logits), "is.plain", 1e-12);
  InceptionScoreOptions shuffled;
  shuffled.shuffle = true;
  expect_score_matches(eval::inception_score_from_logits(logits, shuffled), "is.shuffled", 1e-12);
  // From the probabilities (softmax in NumPy) the same numbers.
  expect_score_matches(eval::inception_score_from_probabilities(golden().tensor("is.probabilities")), "is.plain",
                       1e-12);
  // f32 logits are read as their float64 values.
  const Tensor f32 = logits.to(DType::f32);
  const auto a = eval::inception_score_from_logits(f32), b = eval::inception_score_from_logits(f32.to(DType::f64));
  EXPECT_EQ(a.split_scores, b.split_scores);
}

TEST(InceptionScore, UniformPredictionsScoreOne) {
  const auto s = eval::inception_score_from_logits(zeros({50, 1008}, DType::f32));
  EXPECT_NEAR(s.mean, 1.0, 1e-12);
  EXPECT_NEAR(s.std, 0.0, 1e-12);
  EXPECT_EQ(s.split_scores.size(), 10u);
}

TEST(InceptionScore, OneHotDistinctClassesScoreTheirCount) {
  // 10 splits of 10 rows; in split s, row i predicts class (i % (s + 1)) with certainty, so the split
  // holds s + 1 equally frequent classes and scores exp(log(s + 1)) = s + 1.
  const int64_t n = 100, classes = 12;
  std::vector<double> p(n * classes, 0.0), logits(n * classes, 0.0);
  for (int64_t s = 0; s < 10; ++s)
    for (int64_t i = 0; i < 10; ++i) {
      const int64_t row = s * 10 + i, c = i % (s + 1);
      p[row * classes + c] = 1.0;
      logits[row * classes + c] = 60.0;  // softmax ~ one-hot to e^-60
    }
  const auto from_p = eval::inception_score_from_probabilities(from_vector(p, {n, classes}));
  const auto from_logits = eval::inception_score_from_logits(from_vector(logits, {n, classes}));
  for (int64_t s = 0; s < 10; ++s) {
    // 10 rows over s + 1 classes are equally frequent only when s + 1 divides 10.
    if (10 % (s + 1) != 0) continue;
    EXPECT_NEAR(from_p.split_scores[s], static_cast<double>(s + 1), 1e-12) << "split " << s;
    EXPECT_NEAR(from_logits.split_scores[s], static_cast<double>(s + 1), 1e-9) << "split " << s;
  }
  // All ten classes distinct in every split.
  std::vector<double> q(n * classes, 0.0);
  for (int64_t row = 0; row < n; ++row) q[row * classes + row % 10] = 1.0;
  const auto ten = eval::inception_score_from_probabilities(from_vector(q, {n, classes}));
  EXPECT_NEAR(ten.mean, 10.0, 1e-12);
  EXPECT_NEAR(ten.std, 0.0, 1e-12);
}

TEST(InceptionScore, SplitBoundariesAreFloorOfIN) {
  // N = 13, 4 splits: rows [0,3) [3,6) [6,9) [9,13). The last split alone holds two classes.
  const int64_t n = 13, classes = 2;
  std::vector<double> p(n * classes, 0.0);
  for (int64_t row = 0; row < n; ++row) p[row * classes + (row >= 11 ? 1 : 0)] = 1.0;
  InceptionScoreOptions o;
  o.splits = 4;
  const auto s = eval::inception_score_from_probabilities(from_vector(p, {n, classes}), o);
  ASSERT_EQ(s.split_scores.size(), 4u);
  EXPECT_NEAR(s.split_scores[0], 1.0, 1e-15);
  EXPECT_NEAR(s.split_scores[2], 1.0, 1e-15);
  EXPECT_NEAR(s.split_scores[3], 2.0, 1e-12);  // rows 9..12: classes 0, 0, 1, 1
}

TEST(InceptionScore, RefusesBadInput) {
  EXPECT_TRUE(throws_error_mentioning(
      [] {
        eval::inception_score_from_logits(zeros({9, 5}));
      },
      {"9 predictions", "10 splits"}));
  EXPECT_TRUE(throws_error_mentioning([] { eval::inception_score_from_logits(zeros({20})); }, {"2-D"}));
  EXPECT_TRUE(throws_error_mentioning(
      [] {
        eval::inception_score_from_logits(zeros({20, 3}, DType::i64));
      },
      {"f32 or f64"}));
  std::vector<double> v(20 * 3, 0.0);
  v[7 * 3 + 1] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        eval::inception_score_from_logits(from_vector(v, {20, 3}));
      },
      {"non-finite", "row 7", "column 1"}));
  std::vector<double> p(20 * 3, 0.0);
  for (int64_t r = 0; r < 20; ++r) p[r * 3] = 1.0;
  p[4 * 3 + 2] = 0.5;  // row 4 sums to 1.5
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        eval::inception_score_from_probabilities(from_vector(p, {20, 3}));
      },
      {"row 4", "sum to 1.5"}));
  p[4 * 3 + 2] = 0.0;
  p[4 * 3] = -1.0;
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        eval::inception_score_from_probabilities(from_vector(p, {20, 3}));
      },
      {"outside [0, 1]", "row 4"}));
  InceptionScoreOptions o;
  o.splits = 0;
  EXPECT_TRUE(throws_error_mentioning([&] { eval::inception_score_from_logits(zeros({20, 3}), o); }, {"splits"}));
}

}  // namespace
}  // namespace gantry
