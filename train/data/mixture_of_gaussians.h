#pragma once
// The 2-D mixture of Gaussians of the mode-dropping experiments: m modes (m a perfect square) on a
// sqrt(m) x sqrt(m) grid with the given spacing, centred on the origin, each an isotropic Gaussian
// with the same standard deviation and equal weight.
#include <cstdint>
#include <vector>

#include "engine/core/tensor.h"

namespace gantry {
class Generator;
}

namespace gantry::data {

class MixtureOfGaussians {
 public:
  static constexpr double kDefaultSpacing = 2.0;
  static constexpr double kDefaultStd = 0.05;

  // Throws gantry::Error unless num_modes is a perfect square >= 1, spacing > 0 and std > 0.
  explicit MixtureOfGaussians(int64_t num_modes, double spacing = kDefaultSpacing,
                              double std = kDefaultStd);

  int64_t num_modes() const { return num_modes_; }
  int64_t grid_side() const { return grid_side_; }
  double spacing() const { return spacing_; }
  double std() const { return std_; }
  // Mode i sits at column i % side, row i / side: (centre_x(i), centre_y(i)).
  double centre_x(int64_t mode) const { return centres_[2 * mode]; }
  double centre_y(int64_t mode) const { return centres_[2 * mode + 1]; }
  // Whether the mode lies on the grid's outer ring (first or last row or column).
  bool on_outer_ring(int64_t mode) const;
  const std::vector<double>& centres() const { return centres_; }  // [m, 2] row-major
  Tensor centres_tensor(DType dtype = DType::f32) const;           // [m, 2]

  // n points [n, 2] (f32): a mode drawn uniformly, plus N(0, std^2) noise per coordinate.
  Tensor sample(int64_t n, Generator& gen) const;

 private:
  int64_t num_modes_;
  int64_t grid_side_;
  double spacing_;
  double std_;
  std::vector<double> centres_;
};

// The side of the square grid for m modes, or -1 when m is not a perfect square >= 1.
int64_t perfect_square_side(int64_t m);

}  // namespace gantry::data
