#pragma once
// A complete mixture-of-Gaussians training run built from a MogTrainConfig: models, optimisers,
// samplers and update policy wired into the generic GanTrainer, with the run folder (config.json,
// log.jsonl, metrics.json, samples.png, checkpoint.safetensors), periodic evaluation, checkpoints and
// resume. `gantry mog train` and the end-to-end tests both call run_mog_training().
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eval/mog_metrics.h"
#include "train/gan_trainer.h"
#include "train/mog/mog_config.h"

namespace gantry::mog {

struct MogRunOptions {
  bool resume = false;            // continue from <out>/checkpoint.safetensors
  bool restart = false;           // discard a run already in <out> and start afresh
  std::FILE* progress = nullptr;  // progress display stream (nullptr: silent)
  std::FILE* messages = stdout;   // one-line notes (stale files removed, a run discarded, ...); nullptr: none
  bool write_samples_png = true;
  // Called after every training step (tests record the losses).
  std::function<void(const train::GanStepStats&)> on_step;
  // Stop after this many steps of this invocation (simulates an interrupted run); < 0: no limit.
  int64_t stop_after = -1;
  // Polled after every step; true (an interrupt) ends the run there with a checkpoint and no final
  // evaluation (MogRunResult::stopped).
  std::function<bool()> stop_requested;
};

struct MogRunResult {
  eval::MogMetrics metrics;  // of the final evaluation
  int64_t steps_done = 0;
  double steps_per_second = 0;  // steps of this invocation over its wall time
  double seconds = 0;           // wall time of this invocation's training loop
  double cpu_seconds = 0;       // the process's CPU time (all threads) over the same loop
  bool stopped = false;         // stop_requested ended it early: only the checkpoint was written
  std::vector<std::string> notes;  // the notes printed to MogRunOptions::messages
};

// The run folder's file names.
inline constexpr const char* kCheckpointFile = "checkpoint.safetensors";
inline constexpr const char* kConfigFile = "config.json";
inline constexpr const char* kMetricsFile = "metrics.json";
inline constexpr const char* kLogFile = "log.jsonl";
inline constexpr const char* kSamplesFile = "samples.png";
// The final evaluation's samples ([N, 2] f32 "samples", NumPy .npz): any sample-based metric can be
// computed again from them without the checkpoint (`mog eval --stored`).
inline constexpr const char* kEvalSamplesFile = "eval_samples.npz";

// Validates the config, takes over the run folder (take_run_folder: refusals before anything changes,
// then locked for the whole run), then trains. A resume whose checkpoint is already at config.steps
// trains nothing and re-evaluates the checkpoint.
MogRunResult run_mog_training(const MogTrainConfig& config, const MogRunOptions& options = {});

}  // namespace gantry::mog
