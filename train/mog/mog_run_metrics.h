#pragma once
// A MoG run's metrics.json (written by run_mog_training at the end of a run) as `gantry mog grid`
// reads it back: whether the run finished, at which step, and its final evaluation.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace gantry::mog {

struct MogRunMetrics {
  bool finished = false;  // the run reached its configured step count
  int64_t step = -1;      // the step the metrics were written at
  // Of the final evaluation.
  double high_quality_percent = 0;
  double modes_recovered_percent = 0;
  double within_mode_std = 0;
};

// `path`: the file `metrics` was read from, named in the errors.
MogRunMetrics parse_mog_run_metrics(const nlohmann::json& metrics, const std::string& path);

// The number of modes of the final evaluation without a high-quality sample that lie on the grid's
// outer ring: recorded by current runs, recomputed from the per-mode counts (and "modes") of a
// metrics.json written before it was; nullopt when neither is there.
std::optional<double> missed_on_outer_ring(const nlohmann::json& metrics);

}  // namespace gantry::mog
