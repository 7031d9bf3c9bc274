#include "eval/feature_statistics.h"

#include <cblas.h>

#include <cmath>

#include "engine/core/error.h"
#include "engine/io/npz.h"
#include "engine/ops/ops.h"

namespace gantry::eval {

FeatureStatisticsAccumulator::FeatureStatisticsAccumulator(int64_t dim)
    : dim_(dim), mean_(static_cast<size_t>(dim), 0.0), scatter_(static_cast<size_t>(dim * dim), 0.0) {
  GANTRY_CHECK(dim > 0, "feature statistics: the feature dimension must be positive, got ", dim);
}

void FeatureStatisticsAccumulator::add(const Tensor& features) {
  GANTRY_CHECK(features.dim() == 2 && features.size(1) == dim_, "feature statistics: expected features [N, ", dim_,
               "], got ", shape_str(features.shape()));
  const int64_t n = features.size(0);
  if (n == 0) return;
  const Tensor x = features.to(kCPU).to(DType::f64).contiguous();
  const double* rows = x.data_ptr<double>();
  const auto d = static_cast<size_t>(dim_);
  // The batch's own mean and centred scatter, then Chan et al.'s pairwise merge with the running sums:
  // M2 = M2_a + M2_b + delta delta^T n_a n_b / (n_a + n_b).
  std::vector<double> batch_mean(d, 0.0);
  for (int64_t r = 0; r < n; ++r)
    for (size_t j = 0; j < d; ++j) {
      const double v = rows[static_cast<size_t>(r) * d + j];
      GANTRY_CHECK(std::isfinite(v), "feature statistics: feature row ", count_ + r, " has a non-finite value (", v,
                   ") in dimension ", j);
      batch_mean[j] += v;
    }
  for (double& m : batch_mean) m /= static_cast<double>(n);
  std::vector<double> centred(static_cast<size_t>(n) * d);
  for (int64_t r = 0; r < n; ++r)
    for (size_t j = 0; j < d; ++j)
      centred[static_cast<size_t>(r) * d + j] = rows[static_cast<size_t>(r) * d + j] - batch_mean[j];
  const double na = static_cast<double>(count_), nb = static_cast<double>(n), nab = na + nb;
  std::vector<double> delta(d);
  for (size_t j = 0; j < d; ++j) delta[j] = batch_mean[j] - mean_[j];
  // Only the upper triangle of the scatter is kept up to date (dsyrk); finish() mirrors it.
  const auto di = static_cast<blasint>(d);
  if (count_ > 0) cblas_dsyr(CblasRowMajor, CblasUpper, di, na * nb / nab, delta.data(), 1, scatter_.data(), di);
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, di, static_cast<blasint>(n), 1.0, centred.data(), di, 1.0,
              scatter_.data(), di);
  for (size_t j = 0; j < d; ++j) mean_[j] += delta[j] * nb / nab;
  count_ += n;
}

FeatureStatistics FeatureStatisticsAccumulator::finish() const {
  GANTRY_CHECK(count_ >= 2, "feature statistics: the covariance needs at least 2 feature vectors, got ", count_);
  FeatureStatistics stats;
  stats.count = count_;
  stats.mu = from_vector(mean_, {dim_});
  const auto d = static_cast<size_t>(dim_);
  std::vector<double> cov(scatter_);
  for (size_t i = 0; i < d; ++i)
    for (size_t j = i; j < d; ++j) {
      const double v = scatter_[i * d + j] / static_cast<double>(count_ - 1);
      cov[i * d + j] = v;
      cov[j * d + i] = v;
    }
  stats.sigma = from_vector(cov, {dim_, dim_});
  return stats;
}

FeatureStatistics feature_statistics(const Tensor& features) {
  GANTRY_CHECK(features.dim() == 2, "feature statistics: expected features [N, D], got ", shape_str(features.shape()));
  FeatureStatisticsAccumulator acc(features.size(1));
  acc.add(features);
  return acc.finish();
}

void save_statistics_npz(const std::string& path, const FeatureStatistics& stats) {
  GANTRY_CHECK(stats.mu.defined() && stats.sigma.defined(), "save_statistics_npz: empty statistics for ", path);
  io::save_npz(path, {{"mu", stats.mu.to(DType::f64)}, {"sigma", stats.sigma.to(DType::f64)}});
}

FeatureStatistics load_statistics_npz(const std::string& path, int64_t expected_dim) {
  const auto arrays = io::load_npz(path);
  Tensor mu, sigma;
  for (const auto& [name, t] : arrays) {
    if (name == "mu") mu = t;
    if (name == "sigma") sigma = t;
  }
  GANTRY_CHECK(mu.defined() && sigma.defined(), path, ": not a statistics file: it needs arrays `mu` and `sigma`");
  GANTRY_CHECK(mu.dim() == 1 && sigma.dim() == 2 && sigma.size(0) == mu.numel() && sigma.size(1) == mu.numel(), path,
               ": `mu` ", shape_str(mu.shape()), " and `sigma` ", shape_str(sigma.shape()),
               " do not form statistics of one dimension");
  GANTRY_CHECK(expected_dim <= 0 || mu.numel() == expected_dim, path, ": statistics of dimension ", mu.numel(),
               ", but the features here have dimension ", expected_dim);
  FeatureStatistics stats;
  stats.mu = mu.to(DType::f64).contiguous();
  stats.sigma = sigma.to(DType::f64).contiguous();
  for (const Tensor* t : {&stats.mu, &stats.sigma}) {
    const double* p = t->data_ptr<double>();
    for (int64_t i = 0; i < t->numel(); ++i)
      GANTRY_CHECK(std::isfinite(p[i]), path, ": statistics hold a non-finite value");
  }
  return stats;
}

}  // namespace gantry::eval
