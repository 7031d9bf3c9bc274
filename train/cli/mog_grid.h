#pragma once
// A grid of mixture-of-Gaussians runs (modes x methods x seeds), each a `gantry mog train` child
// process, and its Table-1-style summary (mean +- std over seeds of % high quality and % modes).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gantry::cli {

struct MogGridSpec {
  std::vector<int64_t> modes = {25, 64, 100};
  std::vector<std::string> methods = {"baseline", "topk", "coreset", "both"};
  int seeds = 3;
  int jobs = 2;
  int64_t steps = 100000;
  int64_t decay_every = 0;  // 0: scaled with steps like the paper's 2000 per 100k steps
  std::string out;
  std::vector<std::string> extra_args;  // passed to every run
  double progress_every_seconds = 60;  // a progress line while runs train (0: none)
  bool summary_only = false;  // summarise the finished runs; train nothing (unfinished runs are "pending")
};

// The `gantry mog train` flags of a grid method; throws for an unknown method.
std::vector<std::string> method_flags(const std::string& method);

// Runs the grid (validating everything first), prints progress and the summary table to stdout,
// writes <out>/summary.json and returns it. Returns with exit status non-zero in "failed_runs" when
// some runs failed.
nlohmann::json run_mog_grid(const MogGridSpec& spec);

}  // namespace gantry::cli
