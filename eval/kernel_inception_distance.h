#pragma once
// The Kernel Inception Distance (Binkowski et al. 2018) as clean-fid computes it: the unbiased
// estimate of the squared maximum mean discrepancy under the cubic polynomial kernel
//   k(a, b) = (a . b / D + 1)^3        (D: the feature dimension),
// averaged over `num_subsets` (100) random subsets of size m = min(max_subset_size (1000), N_real,
// N_fake), drawn without replacement from each set. For samples x_1..x_m (fake) and y_1..y_n (real):
//   MMD^2_u = sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (n (n - 1))
//             - 2 sum_{i, j} k(x_i, y_j) / (m n),
// which with m = n is clean-fid's kernel_distance term for one subset. The subsets come from gantry's
// Philox generator seeded with `seed` (per subset: a uniform permutation of the fake rows, then of the
// real rows, each cut to its first m), so they are reproducible but not NumPy's; the mean over 100
// subsets differs from clean-fid's by the subsets' sampling noise, not by the arithmetic. All in
// float64 with BLAS (dsyrk, dgemm).
#include <cstdint>
#include <vector>

#include "engine/core/tensor.h"

namespace gantry::eval {

struct KernelInceptionDistanceOptions {
  int64_t num_subsets = 100;
  int64_t max_subset_size = 1000;
  uint64_t seed = 0;
};

struct KernelInceptionDistance {
  double mean = 0;                    // the KID (clean-fid's number)
  double std = 0;                     // population standard deviation over the subsets (torch-fidelity's kid_std)
  int64_t subset_size = 0;            // m
  std::vector<double> subset_values;  // MMD^2_u of each subset, in drawing order
};

// real, fake: [N, D] f32 or f64 (any device), finite, same D, each N >= 2.
KernelInceptionDistance kernel_inception_distance(const Tensor& real, const Tensor& fake,
                                                  const KernelInceptionDistanceOptions& options = {});

// MMD^2_u above between all rows of x [m, D] and all rows of y [n, D] (m, n >= 2).
double polynomial_mmd2_unbiased(const Tensor& x, const Tensor& y);

}  // namespace gantry::eval
