#include "eval/mog_metrics.h"

#include <cmath>
#include <limits>

#include "engine/ops/ops.h"

namespace gantry::eval {

nlohmann::json MogMetrics::to_json() const {
  return nlohmann::json{{"num_samples", num_samples},
                        {"num_modes", num_modes},
                        {"high_quality_samples", high_quality_samples},
                        {"high_quality_percent", high_quality_percent},
                        {"modes_recovered", modes_recovered},
                        {"modes_recovered_percent", modes_recovered_percent},
                        {"modes_assigned", modes_assigned},
                        {"modes_assigned_percent", modes_assigned_percent},
                        {"missed_on_outer_ring", missed_on_outer_ring},
                        {"unassigned_on_outer_ring", unassigned_on_outer_ring},
                        {"outer_ring_modes", outer_ring_modes},
                        {"within_mode_std", within_mode_std},
                        {"high_quality_per_mode", high_quality_per_mode},
                        {"assigned_per_mode", assigned_per_mode}};
}

MogMetrics evaluate_mog_samples(const Tensor& samples, const data::MixtureOfGaussians& mixture,
                                double hq_std_multiple) {
  GANTRY_CHECK(samples.defined() && samples.dim() == 2 && samples.size(1) == 2 && samples.size(0) >= 1,
               "evaluate_mog_samples: expected samples of shape [N, 2] with N >= 1, got ",
               samples.defined() ? shape_str(samples.shape()) : std::string("an undefined tensor"));
  GANTRY_CHECK(is_floating(samples.dtype()), "evaluate_mog_samples: expected float samples, got ",
               dtype_name(samples.dtype()));
  const std::vector<double> xy = to_vector<double>(samples.to(kCPU).to(DType::f64).contiguous());
  const int64_t n = samples.size(0);
  const int64_t m = mixture.num_modes();
  const double radius = hq_std_multiple * mixture.std();

  MogMetrics r;
  r.num_samples = n;
  r.num_modes = m;
  r.high_quality_per_mode.assign(static_cast<size_t>(m), 0);
  r.assigned_per_mode.assign(static_cast<size_t>(m), 0);
  std::vector<double> sq_dev_per_mode(static_cast<size_t>(m), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    const double x = xy[2 * i], y = xy[2 * i + 1];
    int64_t nearest = 0;
    double best = std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < m; ++j) {
      const double dx = x - mixture.centre_x(j), dy = y - mixture.centre_y(j);
      const double d2 = dx * dx + dy * dy;
      if (d2 < best) best = d2, nearest = j;
    }
    ++r.assigned_per_mode[nearest];
    if (std::sqrt(best) <= radius) {
      ++r.high_quality_samples;
      ++r.high_quality_per_mode[nearest];
      sq_dev_per_mode[nearest] += best;
    }
  }
  double std_sum = 0;
  for (int64_t j = 0; j < m; ++j) {
    const bool outer = mixture.on_outer_ring(j);
    r.outer_ring_modes += outer ? 1 : 0;
    if (r.assigned_per_mode[j] > 0) ++r.modes_assigned;
    else if (outer) ++r.unassigned_on_outer_ring;
    const int64_t c = r.high_quality_per_mode[j];
    if (c == 0) {
      if (outer) ++r.missed_on_outer_ring;
      continue;
    }
    ++r.modes_recovered;
    std_sum += std::sqrt(sq_dev_per_mode[j] / (2.0 * static_cast<double>(c)));  // per coordinate
  }
  r.high_quality_percent = 100.0 * static_cast<double>(r.high_quality_samples) / static_cast<double>(n);
  r.modes_recovered_percent = 100.0 * static_cast<double>(r.modes_recovered) / static_cast<double>(m);
  r.modes_assigned_percent = 100.0 * static_cast<double>(r.modes_assigned) / static_cast<double>(m);
  r.within_mode_std = r.modes_recovered > 0 ? std_sum / static_cast<double>(r.modes_recovered) : 0.0;
  return r;
}

}  // namespace gantry::eval
