#pragma once
// Runs a program that `gantry data fetch` needs (npm, tar, apt-get, dpkg-deb) in a folder, with its
// output in a log file and a time limit, and says why it failed in words a person can act on.
#include <string>
#include <vector>

namespace gantry::data {

struct CommandOutcome {
  bool ok = false;
  std::string problem;  // when not ok: "npm is not installed", "exited with status 1: <last lines>", ...
};

// The full path of `program` on $PATH, or "" when it is not there.
std::string find_on_path(const std::string& program);

// Runs argv (argv[0] looked up on $PATH) in `folder`, stdout and stderr into `log_path`, killing it
// after `timeout_seconds`.
CommandOutcome run_external_command(const std::vector<std::string>& argv, const std::string& folder,
                                    const std::string& log_path, double timeout_seconds);

}  // namespace gantry::data
