#pragma once
// The Inception Score (Salimans et al. 2016) as openai/improved-gan and torch-fidelity compute it:
//   p(y|x) = softmax(logits) over the classes, in float64;
//   the N predictions are cut into `splits` (10) consecutive chunks with boundaries i * N / splits
//   (integer division), in input order unless shuffled first;
//   per chunk, with q(y) = mean over the chunk of p(y|x):
//     score = exp( mean_x sum_y p(y|x) (log p(y|x) - log q(y)) );
//   the result is the mean and the population standard deviation (np.std) of the chunk scores.
// The logits are the caller's: the FID Inception network's 1008 bias-free logits (pool3 times
// `softmax/weights`, the original's and torch-fidelity's "logits_unbiased") for published numbers.
// torch-fidelity shuffles first with np.random.RandomState(2020).permutation(N); `shuffle` reproduces
// that permutation exactly (eval/numpy_permutation.h). A term with p(y|x) = 0 counts as 0
// (p log p -> 0), also where q(y) = 0.
#include <cstdint>
#include <vector>

#include "engine/core/tensor.h"

namespace gantry::eval {

struct InceptionScoreOptions {
  int64_t splits = 10;
  bool shuffle = false;          // torch-fidelity: true (the original: false)
  uint32_t shuffle_seed = 2020;  // NumPy RandomState seed of the shuffle
};

struct InceptionScore {
  double mean = 0;
  double std = 0;                    // population standard deviation of split_scores
  std::vector<double> split_scores;  // exp(mean KL) per split, in split order
};

// logits: [N, C] f32 or f64 (any device), finite; N >= splits.
InceptionScore inception_score_from_logits(const Tensor& logits, const InceptionScoreOptions& options = {});
// probabilities: [N, C], each row in [0, 1] summing to 1 within 1e-3 (used as given, not renormalised).
InceptionScore inception_score_from_probabilities(const Tensor& probabilities,
                                                  const InceptionScoreOptions& options = {});

}  // namespace gantry::eval
