#include "eval/inception_score.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/core/error.h"
#include "eval/feature_rows.h"
#include "eval/numpy_permutation.h"

namespace gantry::eval {
namespace {

enum class Input { logits, probabilities };

// Turns one row into log p(y|x) in place and returns it through `p` too.
void row_log_probabilities(double* row, double* p, int64_t classes, Input input, int64_t index) {
  if (input == Input::logits) {
    const double m = *std::max_element(row, row + classes);
    double sum = 0;
    for (int64_t c = 0; c < classes; ++c) sum += std::exp(row[c] - m);
    const double log_sum = m + std::log(sum);
    for (int64_t c = 0; c < classes; ++c) {
      row[c] -= log_sum;
      p[c] = std::exp(row[c]);
    }
    return;
  }
  double sum = 0;
  for (int64_t c = 0; c < classes; ++c) {
    GANTRY_CHECK(row[c] >= 0 && row[c] <= 1, "Inception Score: probability ", row[c], " outside [0, 1] at row ", index,
                 ", class ", c);
    sum += row[c];
  }
  GANTRY_CHECK(std::abs(sum - 1) <= 1e-3, "Inception Score: the probabilities of row ", index, " sum to ", sum,
               ", not 1");
  for (int64_t c = 0; c < classes; ++c) {
    p[c] = row[c];
    row[c] = row[c] > 0 ? std::log(row[c]) : 0;  // only ever multiplied by p = 0
  }
}

InceptionScore inception_score(const Tensor& values, const InceptionScoreOptions& options, Input input) {
  const FeatureRows rows(values, input == Input::logits ? "Inception Score: logits" : "Inception Score: probabilities");
  const int64_t n = rows.rows(), classes = rows.cols();
  GANTRY_CHECK(options.splits >= 1, "Inception Score: splits must be >= 1, got ", options.splits);
  GANTRY_CHECK(n >= options.splits, "Inception Score: ", n, " predictions cannot fill ", options.splits,
               " splits (every split needs at least one)");
  std::vector<int64_t> order(static_cast<size_t>(n));
  if (options.shuffle) order = numpy_legacy_permutation(n, options.shuffle_seed);
  else std::iota(order.begin(), order.end(), int64_t{0});

  InceptionScore out;
  for (int64_t s = 0; s < options.splits; ++s) {
    const int64_t begin = s * n / options.splits, end = (s + 1) * n / options.splits, count = end - begin;
    std::vector<double> log_p(static_cast<size_t>(count * classes)), p(log_p.size());
    rows.gather(order.data() + begin, count, log_p.data());
    std::vector<double> q(static_cast<size_t>(classes), 0.0);
    for (int64_t i = 0; i < count; ++i) {
      row_log_probabilities(&log_p[i * classes], &p[i * classes], classes, input, order[begin + i]);
      for (int64_t c = 0; c < classes; ++c) q[c] += p[i * classes + c];
    }
    for (double& v : q) v /= static_cast<double>(count);
    std::vector<double> log_q(q.size());
    for (size_t c = 0; c < q.size(); ++c) log_q[c] = q[c] > 0 ? std::log(q[c]) : 0;
    double kl_sum = 0;
    for (int64_t i = 0; i < count; ++i) {
      double kl = 0;
      for (int64_t c = 0; c < classes; ++c) {
        const double pc = p[i * classes + c];
        if (pc > 0) kl += pc * (log_p[i * classes + c] - log_q[c]);
      }
      kl_sum += kl;
    }
    out.split_scores.push_back(std::exp(kl_sum / static_cast<double>(count)));
  }
  const double k = static_cast<double>(out.split_scores.size());
  for (double v : out.split_scores) out.mean += v;
  out.mean /= k;
  double var = 0;
  for (double v : out.split_scores) var += (v - out.mean) * (v - out.mean);
  out.std = std::sqrt(var / k);
  return out;
}

}  // namespace

InceptionScore inception_score_from_logits(const Tensor& logits, const InceptionScoreOptions& options) {
  return inception_score(logits, options, Input::logits);
}

InceptionScore inception_score_from_probabilities(const Tensor& probabilities, const InceptionScoreOptions& options) {
  return inception_score(probabilities, options, Input::probabilities);
}

}  // namespace gantry::eval
