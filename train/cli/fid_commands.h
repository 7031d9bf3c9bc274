#pragma once
// The `gantry fid` commands: `gantry fid [options]` (a distance) and `gantry fid stats` (a source's
// statistics file). Each takes the arguments after its command words and returns the exit status.
#include <string>
#include <vector>

namespace gantry::cli {

int fid_command(const std::vector<std::string>& args);
int fid_stats_command(const std::vector<std::string>& args);

}  // namespace gantry::cli
