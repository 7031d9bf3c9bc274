#pragma once
// The `gantry image ...` subcommands. Each takes the arguments after its subcommand words and returns
// the process exit status.
#include <string>
#include <vector>

namespace gantry::cli {

int image_train_command(const std::vector<std::string>& args);
int image_sample_command(const std::vector<std::string>& args);

}  // namespace gantry::cli
