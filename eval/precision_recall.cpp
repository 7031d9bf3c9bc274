#include "eval/precision_recall.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/core/error.h"
#include "eval/feature_rows.h"

namespace gantry::eval {
namespace {

constexpr int64_t kDistanceBlockBudget = int64_t{1} << 22;  // doubles per distance block

struct Points {
  int64_t n = 0, d = 0;
  std::vector<double> x;      // [n, d]
  std::vector<double> norm2;  // |x_i|^2
};

Points load_points(const FeatureRows& rows) {
  Points p{rows.rows(), rows.cols(), rows.to_doubles(), {}};
  p.norm2.resize(static_cast<size_t>(p.n));
  for (int64_t i = 0; i < p.n; ++i) {
    double s = 0;
    for (int64_t j = 0; j < p.d; ++j) s += p.x[i * p.d + j] * p.x[i * p.d + j];
    p.norm2[i] = s;
  }
  return p;
}

int64_t block_rows_for(const PrecisionRecallOptions& options, int64_t columns) {
  if (options.block_rows > 0) return options.block_rows;
  return std::max<int64_t>(1, kDistanceBlockBudget / std::max<int64_t>(columns, 1));
}

// Squared distances of rows [begin, end) of a to every row of b, into out[(end - begin) * b.n].
void squared_distances(const Points& a, int64_t begin, int64_t end, const Points& b, std::vector<double>& out) {
  const int64_t rows = end - begin;
  out.resize(static_cast<size_t>(rows * b.n));
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(rows), static_cast<blasint>(b.n),
              static_cast<blasint>(a.d), -2.0, a.x.data() + begin * a.d, static_cast<blasint>(a.d), b.x.data(),
              static_cast<blasint>(b.d), 0.0, out.data(), static_cast<blasint>(b.n));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < b.n; ++j) {
      double& v = out[i * b.n + j];
      v = std::max(0.0, v + a.norm2[begin + i] + b.norm2[j]);
    }
}

// Squared k-NN radius of every point within its own set, excluding the point itself by index.
std::vector<double> knn_radii2(const Points& p, int64_t k, const PrecisionRecallOptions& options) {
  std::vector<double> radii2(static_cast<size_t>(p.n)), block, others(static_cast<size_t>(p.n - 1));
  const int64_t step = block_rows_for(options, p.n);
  for (int64_t begin = 0; begin < p.n; begin += step) {
    const int64_t end = std::min(p.n, begin + step);
    squared_distances(p, begin, end, p, block);
    for (int64_t i = begin; i < end; ++i) {
      const double* row = &block[(i - begin) * p.n];
      std::copy(row, row + i, others.begin());
      std::copy(row + i + 1, row + p.n, others.begin() + i);
      std::nth_element(others.begin(), others.begin() + (k - 1), others.end());
      radii2[i] = others[k - 1];
    }
  }
  return radii2;
}

std::vector<double> square_roots(const std::vector<double>& v) {
  std::vector<double> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = std::sqrt(v[i]);
  return out;
}

}  // namespace

PrecisionRecall precision_recall(const Tensor& real, const Tensor& fake, const PrecisionRecallOptions& options) {
  const FeatureRows real_rows(real, "precision/recall: real features"),
      fake_rows(fake, "precision/recall: fake features");
  GANTRY_CHECK(real_rows.cols() == fake_rows.cols(), "precision/recall: real features have dimension ",
               real_rows.cols(), " but fake features have dimension ", fake_rows.cols());
  const int64_t k = options.k;
  GANTRY_CHECK(k >= 1, "precision/recall: k must be >= 1, got ", k);
  for (const FeatureRows* r : {&real_rows, &fake_rows})
    GANTRY_CHECK(r->rows() > k, "precision/recall: ", r->what(), " have ", r->rows(),
                 " rows; the k-th nearest other point needs more than k = ", k);
  GANTRY_CHECK(options.block_rows >= 0, "precision/recall: block_rows must be >= 0, got ", options.block_rows);

  const Points r = load_points(real_rows), f = load_points(fake_rows);
  const std::vector<double> real_r2 = knn_radii2(r, k, options), fake_r2 = knn_radii2(f, k, options);

  // One pass over the fake x real distances gives all four numbers.
  std::vector<char> real_recalled(static_cast<size_t>(r.n), 0);
  std::vector<double> nearest_fake2(static_cast<size_t>(r.n), std::numeric_limits<double>::infinity());
  int64_t fakes_inside = 0, memberships = 0;
  std::vector<double> block;
  const int64_t step = block_rows_for(options, r.n);
  for (int64_t begin = 0; begin < f.n; begin += step) {
    const int64_t end = std::min(f.n, begin + step);
    squared_distances(f, begin, end, r, block);
    for (int64_t j = begin; j < end; ++j) {
      const double* row = &block[(j - begin) * r.n];
      int64_t inside = 0;
      for (int64_t i = 0; i < r.n; ++i) {
        const double d2 = row[i];
        inside += d2 <= real_r2[i];
        if (d2 <= fake_r2[j]) real_recalled[i] = 1;
        nearest_fake2[i] = std::min(nearest_fake2[i], d2);
      }
      fakes_inside += inside > 0;
      memberships += inside;
    }
  }
  int64_t recalled = 0, covered = 0;
  for (int64_t i = 0; i < r.n; ++i) {
    recalled += real_recalled[i];
    covered += nearest_fake2[i] <= real_r2[i];
  }
  PrecisionRecall out;
  out.k = k;
  out.precision = static_cast<double>(fakes_inside) / static_cast<double>(f.n);
  out.recall = static_cast<double>(recalled) / static_cast<double>(r.n);
  out.density = static_cast<double>(memberships) / (static_cast<double>(k) * static_cast<double>(f.n));
  out.coverage = static_cast<double>(covered) / static_cast<double>(r.n);
  out.real_radii = square_roots(real_r2);
  out.fake_radii = square_roots(fake_r2);
  return out;
}

}  // namespace gantry::eval
