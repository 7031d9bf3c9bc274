#pragma once
// Option values shared by the grid commands (mog grid, mog compare, image grid).
#include <string>
#include <vector>

#include "train/cli/arg_parser.h"

namespace gantry::cli {

// Two runs at a time, or one on a single-core machine (--jobs is refused above the core count).
std::string default_grid_jobs();

// --progress-every in seconds; throws naming the option for a negative or non-finite value.
double progress_seconds(const ArgParser& p);

// "--name value" for each of `names` that was given, to pass on to every run of a grid.
std::vector<std::string> forwarded_options(const ArgParser& p, const std::vector<std::string>& names);

}  // namespace gantry::cli
