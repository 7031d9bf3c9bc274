#pragma once
// Mode-dropping metrics of a 2-D mixture of Gaussians (top-k paper, Sec. 4.1; Small-GAN, Sec. 4.2):
// each sample is assigned to its nearest mode; it is high quality when it lies within
// `hq_std_multiple` (4) standard deviations of that mode. The papers count recovered modes in two ways,
// and both are reported:
// - the top-k paper's (modes_recovered): a mode with at least one high-quality sample;
// - Small-GAN's (modes_assigned): a mode with at least one assigned sample, however far it lies.
// The second is never stricter; a diffuse generator reaches many modes that way by chance.
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
  // Small-GAN's count: modes with at least one assigned (nearest-mode) sample.
  int64_t modes_assigned = 0;
  double modes_assigned_percent = 0;  // 100 * modes_assigned / num_modes
  // Of the modes missed by each count, how many lie on the grid's outer ring.
  int64_t missed_on_outer_ring = 0;      // no high-quality sample
  int64_t unassigned_on_outer_ring = 0;  // no assigned sample
  int64_t outer_ring_modes = 0;          // the ring's size: 4 (side - 1) for side >= 2
  // High-quality and assigned samples per mode (mode order of MixtureOfGaussians).
  std::vector<int64_t> high_quality_per_mode;
  std::vector<int64_t> assigned_per_mode;
  // Mean over recovered modes of the per-coordinate RMS deviation of that mode's high-quality samples
  // from its centre (a perfect generator gives the mixture's std, 0.05). 0 when no mode is recovered.
  double within_mode_std = 0;

  nlohmann::json to_json() const;
};

// samples: [N, 2] f32 or f64 on any device. The paper's protocol uses N = 10,000.
MogMetrics evaluate_mog_samples(const Tensor& samples, const data::MixtureOfGaussians& mixture,
                                double hq_std_multiple = 4.0);

}  // namespace gantry::eval
