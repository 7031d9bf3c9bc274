#pragma once
// A finished or interrupted `gantry mog train` run read back from its folder. The checkpoint carries
// the run's own configuration; config.json beside it is cross-checked against it, so an edited or
// foreign config.json is refused instead of believed. Checkpoints from before the configuration was
// embedded fall back to config.json, with a note. `mog train --resume`, `mog eval` and
// `mog directions` start from it.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/nn/sequential.h"
#include "engine/optim/adam.h"
#include "train/checkpoint.h"
#include "train/mog/mog_config.h"
#include "train/recorded_run.h"

namespace gantry::mog {

// What a run folder records about its run, verified.
struct RecordedRun {
  MogTrainConfig config;             // config.json when present (it carries the latest --steps and cadence),
                                     // otherwise the checkpoint's embedded configuration
  std::string config_source;         // the file the configuration came from, for messages
  train::CheckpointFile checkpoint;  // read and verified (checksums, finite values)
  std::vector<std::string> notes;    // one-line remarks for the user (an older checkpoint, a missing config.json)
};

// `path` is a run folder or a checkpoint file; `what` names the option it came from ("--run") in
// errors. Throws gantry::Error naming the files when the path or checkpoint is missing or corrupt,
// when config.json disagrees with the checkpoint (naming the differing setting), when config.json
// describes fewer steps than the checkpoint holds, or when neither records a configuration.
RecordedRun read_recorded_run(const std::string& path, const std::string& what);
// A run train::read_recorded_run read with mog_run_kind(), with its configuration parsed.
RecordedRun as_mog_run(train::RecordedRun run);

struct LoadedMogRun {
  MogTrainConfig config;        // as read_recorded_run found it
  std::string checkpoint_path;  // the checkpoint file read
  int64_t step = 0;             // the step the checkpoint was written at
  std::vector<std::string> notes;
  std::shared_ptr<nn::Sequential> generator, critic;
  std::unique_ptr<optim::Adam> generator_optimizer, critic_optimizer;
};

// read_recorded_run plus the models and optimiser states restored from the checkpoint. When `modes`
// is given, the run must have been trained on that many modes.
LoadedMogRun load_mog_run(const std::string& path, const std::string& what, std::optional<int64_t> modes = {});

}  // namespace gantry::mog
