#pragma once
// The `gantry image ...` subcommands. Each takes the arguments after its subcommand words and returns
// the process exit status.
#include <string>
#include <vector>

#include "train/image/image_config.h"

namespace gantry::cli {

int image_train_command(const std::vector<std::string>& args);
int image_sample_command(const std::vector<std::string>& args);
int image_grid_command(const std::vector<std::string>& args);

// The run configuration that `gantry image train` would run with these arguments (not validated).
image::ImageTrainConfig parse_image_train_config(const std::vector<std::string>& args);

}  // namespace gantry::cli
