#pragma once
// Progress of a grid of training runs, read from the runs' own log.jsonl files (the children train with
// --quiet): each running run's step and rate, the runs left and an estimate of the time left.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gantry::train {

// The "step" of the last complete record in a JSON-lines log; -1 when the file is missing or has none.
int64_t last_logged_step(const std::string& log_path);
// The same for the tail of a log as last_logged_step reads it; `starts_mid_line`: the tail does not
// begin at the start of the file, so its first line is cut and is skipped.
int64_t last_logged_step_in_tail(const std::string& tail, bool starts_mid_line);

class GridProgress {
 public:
  struct Running {
    std::string name;      // shown in the line, e.g. m25_topk_seed0
    std::string log_path;  // its log.jsonl
  };

  GridProgress(int64_t steps_per_run, size_t runs_to_do);

  // One line: time since the grid started, each running run's step and steps/s, runs finished of
  // those to do, and the time left at the current aggregate rate.
  std::string line(const std::vector<Running>& running, size_t finished);

 private:
  using Clock = std::chrono::steady_clock;
  struct FirstSeen {
    int64_t step;
    Clock::time_point when;
  };
  int64_t steps_per_run_;
  size_t runs_to_do_;
  Clock::time_point start_;
  std::map<std::string, FirstSeen> first_seen_;  // per run: where its rate is measured from
};

}  // namespace gantry::train
