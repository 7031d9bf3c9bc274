#pragma once
// The mixture-of-Gaussians run as a train::RunKind: its run files, and its configuration as the
// run-folder machinery records and compares it.
#include "train/mog/mog_config.h"
#include "train/run_kind.h"

namespace gantry::mog {

const train::RunKind& mog_run_kind();
// A configuration as the run-folder machinery sees it.
train::RecordedConfig recorded_config(const MogTrainConfig& config);

}  // namespace gantry::mog
