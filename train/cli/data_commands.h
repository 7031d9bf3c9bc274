#pragma once
// The `gantry data ...` subcommands: fetch a named dataset into the dataset cache, describe one.
#include <string>
#include <vector>

namespace gantry::cli {

int data_fetch_command(const std::vector<std::string>& args);
int data_info_command(const std::vector<std::string>& args);

}  // namespace gantry::cli
