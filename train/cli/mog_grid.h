#pragma once
// A grid of mixture-of-Gaussians runs (modes x methods x seeds), each a `gantry mog train` child
// process, and its Table-1-style summary (mean +- std over seeds of % high quality and % modes).
#include <cstdint>
#include <string>
#include <vector>

#include "train/cli/run_grid.h"

namespace gantry::cli {

// 1000 steps are 10-20 s of a run at the measured 50-110 steps/s of the paper's setup on one or two
// CPU threads, while a checkpoint write (about 3 MB with fsync) takes milliseconds.
inline constexpr int64_t kGridCheckpointEvery = 1000;

struct MogGridSpec : GridSettings {
  MogGridSpec() { steps = 100000; }
  std::vector<int64_t> modes = {25, 64, 100};
  std::vector<std::string> methods = {"baseline", "topk", "coreset", "both"};
  int64_t decay_every = 0;  // 0: scaled with steps like the paper's 2000 per 100k steps
  // Every run checkpoints this often, so a crash or kill -9 loses at most this many steps of each
  // running run (an interrupt by SIGINT/SIGTERM loses none: the runs checkpoint as they stop).
  int64_t checkpoint_every = kGridCheckpointEvery;
  std::vector<std::string> extra_args;  // passed to every run
};

using MogGridResult = GridResult;

// Validates everything, then runs the grid through run_grid (train/cli/run_grid.h).
MogGridResult run_mog_grid(const MogGridSpec& spec);

}  // namespace gantry::cli
