#pragma once
// samples.png of a mixture-of-Gaussians run: generated samples as translucent dots over the mode
// centres, each centre drawn as a ring at the high-quality radius (4 std).
#include <string>

#include "engine/core/tensor.h"
#include "train/data/mixture_of_gaussians.h"

namespace gantry::plot {

// samples: [N, 2]. Returns PNG bytes of a size x size image covering the grid plus one spacing margin.
std::string render_mog_scatter_png(const Tensor& samples, const data::MixtureOfGaussians& mixture,
                                   int size = 800);
// Renders and writes atomically to `path`.
void write_mog_scatter_png(const std::string& path, const Tensor& samples,
                           const data::MixtureOfGaussians& mixture, int size = 800);

}  // namespace gantry::plot
