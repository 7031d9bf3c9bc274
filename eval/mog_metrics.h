#pragma once
// Mode-dropping metrics of a 2-D mixture of Gaussians (top-k paper, Sec. 4.1; Small-GAN, Sec. 4.2):
// each sample is assigned to its nearest mode; it is high quality when it lies within
// `hq_std_multiple` (4) standard deviations of that mode; a mode is recovered when it has at least
// one high-quality sample.
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/tensor.h"
#include "train/data/mixture_of_gaussians.h"

namespace gantry::eval {

struct MogMetrics {
  int64_t num_samples = 0;
  int64_t num_modes = 0;
  int64_t high_quality_samples = 0;
  int64_t modes_recovered = 0;
  double high_quality_percent = 0;   // 100 * high_quality_samples / num_samples
  double modes_recovered_percent = 0;  // 100 * modes_recovered / num_modes
  // High-quality samples per mode (mode order of MixtureOfGaussians).
  std::vector<int64_t> high_quality_per_mode;
  // Mean over recovered modes of the per-coordinate RMS deviation of that mode's high-quality samples
  // from its centre (a perfect generator gives the mixture's std, 0.05). 0 when no mode is recovered.
  double within_mode_std = 0;

  nlohmann::json to_json() const;
};

// samples: [N, 2] f32 or f64 on any device. The paper's protocol uses N = 10,000.
MogMetrics evaluate_mog_samples(const Tensor& samples, const data::MixtureOfGaussians& mixture,
                                double hq_std_multiple = 4.0);

}  // namespace gantry::eval
