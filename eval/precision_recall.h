#pragma once
// Improved precision and recall (Kynkäänniemi et al. 2019) and density and coverage (Naeem et al.
// 2020) of fake features against real ones, all from the same k-nearest-neighbour balls, in float64.
//
// Balls. The radius r(a) of a point a of a set S is its distance to its k-th nearest neighbour in S
// other than itself: the k-th smallest of { |a - b| : b in S at another index }. A duplicate of a at
// another index is a neighbour at distance 0; ties among distances need no rule because only the
// k-th value is used. (prdc's "(k + 1)-th smallest including the self-distance 0" is the same
// number.) A point p lies inside the ball of a when |p - a| <= r(a) (closed balls, as Kynkäänniemi
// et al.'s code; prdc uses <, which differs only on exact ties).
//
// With real points R (N_r) and fake points F (N_f):
//   precision = share of fakes inside the ball of at least one real;
//   recall    = share of reals inside the ball of at least one fake;
//   density   = (1 / (k N_f)) sum_f #{ reals a : f inside the ball of a }   (may exceed 1);
//   coverage  = share of reals a whose nearest fake lies inside the ball of a.
//
// Distances: |a - b|^2 = |a|^2 + |b|^2 - 2 a.b with the dot products from BLAS dgemm, clamped at 0
// (all comparisons are between squared distances). Rows are processed in blocks so that the distance
// block holds at most ~4M doubles (32 MiB): 10,000 x 10,000 never materialises.
#include <cstdint>
#include <vector>

#include "engine/core/tensor.h"

namespace gantry::eval {

struct PrecisionRecallOptions {
  int64_t k = 3;
  int64_t block_rows = 0;  // rows of each distance block; 0: as many as fit the 32 MiB budget
};

struct PrecisionRecall {
  double precision = 0;
  double recall = 0;
  double density = 0;
  double coverage = 0;
  int64_t k = 0;
  std::vector<double> real_radii;  // r(a) of each real, in row order
  std::vector<double> fake_radii;  // r(f) of each fake
};

// real: [N_r, D], fake: [N_f, D], f32 or f64 (any device), finite, same D; each N > k.
PrecisionRecall precision_recall(const Tensor& real, const Tensor& fake, const PrecisionRecallOptions& options = {});

}  // namespace gantry::eval
