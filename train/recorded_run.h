#pragma once
// A finished or interrupted run read back from its folder, for any kind of run. The checkpoint
// carries the run's own configuration; the configuration file beside it is cross-checked against
// it, so an edited or foreign config.json is refused instead of believed. Checkpoints from before
// the configuration was embedded fall back to config.json, with a note.
#include <string>
#include <vector>

#include "train/checkpoint.h"
#include "train/run_kind.h"

namespace gantry::train {

struct RecordedRun {
  RecordedConfig config;             // config.json when present (it carries the latest --steps and cadence),
                                     // otherwise the checkpoint's embedded configuration
  std::string config_source;         // the file the configuration came from, for messages
  CheckpointFile checkpoint;         // read and verified (checksums, finite values)
  std::vector<std::string> notes;    // one-line remarks for the user (an older checkpoint, a missing config.json)
};

// `path` is a run folder or a checkpoint file; `what` names the option it came from ("--run") in
// errors. Throws gantry::Error naming the files when the path or checkpoint is missing or corrupt,
// when config.json disagrees with the checkpoint (naming the differing setting), when config.json
// describes fewer steps than the checkpoint holds, or when neither records a configuration.
RecordedRun read_recorded_run(const std::string& path, const std::string& what, const RunKind& kind);

}  // namespace gantry::train
