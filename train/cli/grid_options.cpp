#include "train/cli/grid_options.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "engine/core/error.h"

namespace gantry::cli {

std::string default_grid_jobs() { return std::to_string(std::clamp(std::thread::hardware_concurrency(), 1u, 2u)); }

double progress_seconds(const ArgParser& p) {
  const double s = p.real("progress-every");
  GANTRY_CHECK(std::isfinite(s) && s >= 0, "--progress-every: must be >= 0 seconds, got ", p.str("progress-every"));
  return s;
}

std::vector<std::string> forwarded_options(const ArgParser& p, const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& n : names)
    if (p.given(n)) out.insert(out.end(), {"--" + n, p.str(n)});
  return out;
}

}  // namespace gantry::cli
