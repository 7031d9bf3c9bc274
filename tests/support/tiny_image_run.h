#pragma once
// The smallest image run the end-to-end suites train: a preset with 8-channel networks and 8-d latents,
// batch 4, no sample grids, a few steps on a (usually tiny) dataset.
#include <cstdint>
#include <string>

#include "train/image/image_config.h"

namespace gantry::testing {

inline image::ImageTrainConfig tiny_image_run(const std::string& dataset, const std::string& out, int64_t steps,
                                              const std::string& model = "dcgan", int64_t side = 16) {
  image::ImageTrainConfig c = image::ImageTrainConfig::preset(model);
  c.dataset = dataset;
  c.image_size = side;
  c.g_width = c.d_width = 8;
  c.latent_dim = 8;
  c.batch = 4;
  c.steps = steps;
  c.sample_every = 0;
  c.out = out;
  return c;
}

}  // namespace gantry::testing
