#pragma once
// The `gantry mog ...` subcommands. Each takes the arguments after its subcommand words and returns
// the process exit status.
#include <string>
#include <vector>

#include "train/mog/mog_config.h"

namespace gantry::cli {

int mog_train_command(const std::vector<std::string>& args);
int mog_grid_command(const std::vector<std::string>& args);
int mog_compare_command(const std::vector<std::string>& args);
int mog_directions_command(const std::vector<std::string>& args);
int mog_eval_command(const std::vector<std::string>& args);

// The run configuration that `gantry mog train` would run with these arguments (not validated).
mog::MogTrainConfig parse_mog_train_config(const std::vector<std::string>& args);

// Path of the running gantry binary (children of grid/compare re-run it).
std::string self_executable_path();

}  // namespace gantry::cli
