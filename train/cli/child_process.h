#pragma once
// Runs command lines as child processes, at most `jobs` at a time, each with stdout and stderr
// redirected to its own log file. Children never outlive the parent: each asks the kernel for a
// SIGTERM when the parent dies (even by SIGKILL), and runs in its own process group, so a terminal's
// Ctrl-C reaches only the parent, which forwards one signal to every child (see stop_signal).
#include <functional>
#include <string>
#include <vector>

namespace gantry::cli {

struct ChildJob {
  std::vector<std::string> argv;  // argv[0] is the executable path
  std::string log_path;           // stdout + stderr
  int exit_status = -1;           // filled in: the exit code, or 128 + signal; -1: never started
  bool signalled = false;         // filled in: it was running when the stop signal was forwarded
};

struct ChildJobHooks {
  std::function<void(size_t)> on_done;  // (index) as each job finishes, in finishing order
  // (indices of the running jobs) every tick_seconds while jobs run, when tick_seconds > 0.
  std::function<void(const std::vector<size_t>&)> on_tick;
  double tick_seconds = 0;
  // Polled while jobs run: a non-zero signal number starts no further job and is sent once to every
  // running one; run_child_jobs then waits for them to exit.
  std::function<int()> stop_signal;
  // Called once with that signal number, before it is forwarded (to tell the user what happens).
  std::function<void(int)> on_stop;
};

// Runs the jobs, at most max_parallel concurrently. Returns when all have finished, or, after a stop
// signal, when the running ones have exited (jobs never started keep exit_status -1).
void run_child_jobs(std::vector<ChildJob>& jobs, int max_parallel, const ChildJobHooks& hooks = {});

}  // namespace gantry::cli
