#pragma once
// The part of a training run every kind of run shares once its models, samplers and trainer exist:
// the step loop with checkpoints every N steps and at the end, the progress display, the per-step
// hooks, and the timing of the invocation. `mog train` and `image train` both run through it.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "train/gan_trainer.h"
#include "train/run_folder.h"

namespace gantry::train {

struct ExperimentLoopOptions {
  int64_t total_steps = 0;       // the run's length (config steps)
  int64_t stop_after = -1;       // stop after this many steps of this invocation (< 0: no limit)
  int64_t checkpoint_every = 0;  // 0: at the end only
  bool resumed = false;          // this invocation continues a checkpoint
  std::FILE* progress = nullptr;
  // Per step, in this order: the caller's observer (tests), the kind's own work (evaluation,
  // samples), a checkpoint when due.
  std::function<void(const GanStepStats&)> on_step;
  std::function<void(const GanStepStats&)> after_step;
  std::function<void(int64_t step)> save_checkpoint;  // writes the run's checkpoint at that step
};

struct ExperimentLoopResult {
  int64_t first_step = 0;  // steps done when this invocation started
  int64_t steps_done = 0;
  int64_t last_step = 0;   // where this invocation was to stop
  bool stopped = false;    // interrupted (stop request or stop_after) before last_step
  bool trained = false;    // it trained at least one step, or started the run
  double seconds = 0;      // wall time of the loop
  double cpu_seconds = 0;  // the process's CPU time (all threads) over the loop
  double steps_per_second() const;
};

// Runs `trainer` from its current step to the end (or the stop), then writes the final checkpoint
// when anything was trained.
ExperimentLoopResult run_experiment_loop(GanTrainer& trainer, JsonLinesLog& log, const ExperimentLoopOptions& options);

// The timing of the invocation that trained a run (steps_per_second, train_seconds,
// train_cpu_seconds, machine), copied from the folder's `metrics_file` into `metrics` when that file
// describes the same step: a later invocation that trained nothing (a resume at the last step) keeps it.
void keep_training_timing(const RunFolder& folder, const std::string& metrics_file, int64_t step,
                          nlohmann::json& metrics);

// Prints one-line notes (stale files removed, a run discarded, ...) to `stream` (nullptr: none).
void print_notes(const std::vector<std::string>& notes, std::FILE* stream);

}  // namespace gantry::train
