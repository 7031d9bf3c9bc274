#pragma once
// The Gaussian statistics of a feature set as pytorch-fid computes them: the mean and the unbiased
// (N - 1) covariance in float64 (np.mean(axis=0), np.cov(rowvar=False)), whatever the features' dtype.
// Features arrive in batches, so 50,000 x 2048 of them never need to be held at once: each batch is
// merged into running (count, mean, centred scatter) sums with Chan's update, which stays accurate
// when the features' mean is far from zero (plain sums of x and x x^T lose digits there).
#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace gantry::eval {

struct FeatureStatistics {
  int64_t count = 0;  // number of feature vectors
  Tensor mu;          // f64 [D]
  Tensor sigma;       // f64 [D, D], unbiased covariance
  int64_t dim() const { return mu.defined() ? mu.numel() : 0; }
  // With N <= D the covariance is singular (rank at most N - 1); FID still has a value, but a noisy one.
  bool singular() const { return count <= dim(); }
};

class FeatureStatisticsAccumulator {
 public:
  explicit FeatureStatisticsAccumulator(int64_t dim);
  // features: [n, D] (f32 or f64, any device; copied to the CPU). Rejects non-finite values, naming the row.
  void add(const Tensor& features);
  int64_t count() const { return count_; }
  // Throws when fewer than two vectors were added.
  FeatureStatistics finish() const;

 private:
  int64_t dim_;
  int64_t count_ = 0;
  std::vector<double> mean_;     // [D]
  std::vector<double> scatter_;  // [D, D], sum of centred outer products (upper triangle)
};

// All rows at once.
FeatureStatistics feature_statistics(const Tensor& features);

// pytorch-fid's statistics file: an .npz with `mu` [D] and `sigma` [D, D] in float64 (written
// atomically). The count is not part of that layout; gantry adds nothing to the file so that other
// tools read it unchanged.
void save_statistics_npz(const std::string& path, const FeatureStatistics& stats);
// Reads such a file (count 0: unknown). expected_dim > 0 refuses statistics of another dimension,
// naming the file and both dimensions.
FeatureStatistics load_statistics_npz(const std::string& path, int64_t expected_dim = 0);

}  // namespace gantry::eval
