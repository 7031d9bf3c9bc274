#pragma once
// The Fréchet distance between two Gaussians, pytorch-fid's FID formula:
//   d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr sqrt(S1 S2).
// tr sqrt(S1 S2) is taken through symmetric eigendecompositions in float64 (LAPACK dsyevd): with
// S1 = V L V^T and R = V sqrt(L) V^T, the eigenvalues of S1 S2 are those of the symmetric R S2 R, so
// tr sqrt(S1 S2) = sum_i sqrt(lambda_i(R S2 R)). That is the trace scipy.linalg.sqrtm's result has,
// without its Schur iteration; eigenvalues that rounding makes slightly negative count as zero.
// pytorch-fid's fallback is kept: when the result is not finite (or LAPACK fails), eps I is added to
// both covariances and the distance recomputed, and the result says so.
#include <cstdint>
#include <vector>

#include "engine/core/tensor.h"
#include "eval/feature_statistics.h"

namespace gantry::eval {

struct FrechetDistance {
  double value = 0;
  double mean_term = 0;           // |mu1 - mu2|^2
  double trace_sqrt_product = 0;  // tr sqrt(S1 S2)
  bool used_offset = false;       // eps I was added to both covariances (pytorch-fid's fallback)
  // The most negative eigenvalues met (0 when none): of S1, and of R S2 R. Large magnitudes relative
  // to the spectrum mean the covariances were not positive semi-definite (too few samples, or bad input).
  double min_eigenvalue_sigma1 = 0;
  double min_eigenvalue_product = 0;
};

// mu: f64 (or f32) [D]; sigma: [D, D], symmetric. Throws on mismatched dimensions or non-finite input.
FrechetDistance frechet_distance(const Tensor& mu1, const Tensor& sigma1, const Tensor& mu2, const Tensor& sigma2,
                                 double eps = 1e-6);
FrechetDistance frechet_distance(const FeatureStatistics& a, const FeatureStatistics& b, double eps = 1e-6);

// Eigenvalues (ascending) of a symmetric matrix [n, n] (row-major; only symmetry is assumed), and
// optionally its eigenvectors as the columns of a row-major [n, n] matrix. Throws when LAPACK fails.
std::vector<double> symmetric_eigenvalues(std::vector<double> matrix, int64_t n,
                                          std::vector<double>* eigenvectors = nullptr);

}  // namespace gantry::eval
