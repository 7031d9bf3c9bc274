#pragma once
// Runs command lines as child processes, at most `jobs` at a time, each with stdout and stderr
// redirected to its own log file.
#include <functional>
#include <string>
#include <vector>

namespace gantry::cli {

struct ChildJob {
  std::vector<std::string> argv;  // argv[0] is the executable path
  std::string log_path;           // stdout + stderr
  int exit_status = -1;           // filled in: the exit code, or 128 + signal
};

// Runs every job, at most `jobs` concurrently; calls on_done(index) as each finishes (in finishing
// order) and, when tick_seconds > 0, on_tick(indices of the running jobs) every tick_seconds while
// jobs run. Returns when all have finished.
void run_child_jobs(std::vector<ChildJob>& jobs, int max_parallel, const std::function<void(size_t)>& on_done = {},
                    const std::function<void(const std::vector<size_t>&)>& on_tick = {}, double tick_seconds = 0);

}  // namespace gantry::cli
