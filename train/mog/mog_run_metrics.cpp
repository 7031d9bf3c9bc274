#include "train/mog/mog_run_metrics.h"

#include "engine/core/error.h"
#include "engine/io/json_integer.h"
#include "train/data/mixture_of_gaussians.h"

namespace gantry::mog {

MogRunMetrics parse_mog_run_metrics(const nlohmann::json& metrics, const std::string& path) {
  const std::string where = "mog grid: '" + path + "'";
  GANTRY_CHECK(metrics.is_object(), where, " is not a JSON object (not a run's metrics.json)");
  MogRunMetrics m;
  // "finished" and "step" may be absent: the run is then treated as unfinished.
  if (metrics.contains("finished")) {
    GANTRY_CHECK(metrics["finished"].is_boolean(), where, ": 'finished' must be true or false, got ",
                 io::json_value_summary(metrics["finished"]));
    m.finished = metrics["finished"].get<bool>();
  }
  if (metrics.contains("step")) m.step = io::require_json_integer<int64_t>(metrics["step"], where + ": 'step'");
  GANTRY_CHECK(metrics.contains("final") && metrics["final"].is_object(), where,
               ": no 'final' evaluation object (the run's metrics.json is incomplete)");
  const nlohmann::json& final = metrics["final"];
  const auto number = [&](const char* key) {
    GANTRY_CHECK(final.contains(key) && final[key].is_number(), where, ": 'final' has no number '", key, "'");
    return final[key].get<double>();
  };
  m.high_quality_percent = number("high_quality_percent");
  m.modes_recovered_percent = number("modes_recovered_percent");
  m.within_mode_std = number("within_mode_std");
  return m;
}

std::optional<double> missed_on_outer_ring(const nlohmann::json& metrics) {
  if (!metrics.is_object() || !metrics.contains("final") || !metrics["final"].is_object()) return std::nullopt;
  const nlohmann::json& final = metrics["final"];
  if (final.contains("missed_on_outer_ring") && final["missed_on_outer_ring"].is_number())
    return final["missed_on_outer_ring"].get<double>();
  if (!metrics.contains("modes") || !metrics["modes"].is_number_integer() || !final.contains("high_quality_per_mode") ||
      !final["high_quality_per_mode"].is_array())
    return std::nullopt;
  const int64_t modes = metrics["modes"].get<int64_t>();
  const nlohmann::json& per_mode = final["high_quality_per_mode"];
  if (data::perfect_square_side(modes) < 1 || static_cast<int64_t>(per_mode.size()) != modes) return std::nullopt;
  const data::MixtureOfGaussians mixture(modes);  // only its grid layout is used
  int64_t missed = 0;
  for (int64_t j = 0; j < modes; ++j) {
    if (!per_mode[j].is_number()) return std::nullopt;
    if (per_mode[j].get<double>() == 0 && mixture.on_outer_ring(j)) ++missed;
  }
  return static_cast<double>(missed);
}

}  // namespace gantry::mog
