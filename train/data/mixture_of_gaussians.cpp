#include "train/data/mixture_of_gaussians.h"

#include <cmath>

#include "engine/ops/ops.h"
#include "engine/random/generator.h"

namespace gantry::data {

int64_t perfect_square_side(int64_t m) {
  if (m < 1) return -1;
  const auto side = static_cast<uint64_t>(std::llround(std::sqrt(static_cast<double>(m))));
  // Unsigned: side <= 3037000500, whose square fits uint64 but not int64.
  return side * side == static_cast<uint64_t>(m) ? static_cast<int64_t>(side) : -1;
}

MixtureOfGaussians::MixtureOfGaussians(int64_t num_modes, double spacing, double std)
    : num_modes_(num_modes), grid_side_(perfect_square_side(num_modes)), spacing_(spacing), std_(std) {
  GANTRY_CHECK(grid_side_ > 0, "MixtureOfGaussians: the number of modes must be a perfect square >= 1 ",
               "(e.g. 25, 64, 100), got ", num_modes);
  GANTRY_CHECK(spacing > 0 && std > 0, "MixtureOfGaussians: spacing and std must be positive, got spacing ",
               spacing, " std ", std);
  centres_.resize(static_cast<size_t>(2 * num_modes_));
  const double half_extent = 0.5 * static_cast<double>(grid_side_ - 1) * spacing_;
  for (int64_t i = 0; i < num_modes_; ++i) {
    centres_[2 * i] = static_cast<double>(i % grid_side_) * spacing_ - half_extent;
    centres_[2 * i + 1] = static_cast<double>(i / grid_side_) * spacing_ - half_extent;
  }
}

Tensor MixtureOfGaussians::centres_tensor(DType dtype) const {
  return from_vector(centres_, {num_modes_, 2}).to(dtype);
}

Tensor MixtureOfGaussians::sample(int64_t n, Generator& gen) const {
  GANTRY_CHECK(n >= 1, "MixtureOfGaussians::sample: n must be >= 1, got ", n);
  Tensor modes = randint(0, num_modes_, {n}, gen);
  Tensor centres = index_select(centres_tensor(DType::f32), 0, modes);
  return add(centres, mul(randn({n, 2}, gen), std_));
}

bool MixtureOfGaussians::on_outer_ring(int64_t mode) const {
  const int64_t column = mode % grid_side_, row = mode / grid_side_;
  return column == 0 || row == 0 || column == grid_side_ - 1 || row == grid_side_ - 1;
}

}  // namespace gantry::data
