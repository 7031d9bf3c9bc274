#pragma once
// How `mog train` takes over its run folder: train::take_run_folder (every refusal before anything
// changes, the folder locked while the run lives) with the mixture-of-Gaussians run kind.
#include <string>
#include <vector>

#include "train/mog/mog_config.h"
#include "train/mog/mog_run_loading.h"
#include "train/run_folder_taking.h"

namespace gantry::mog {

// The files a run writes into its folder; any of them means the folder holds a run.
std::vector<std::string> run_files_in(const std::string& folder);

// The run recorded in `folder` that `--resume` would continue; throws gantry::Error naming the folder
// when it has no checkpoint (or read_recorded_run refuses it).
RecordedRun recorded_run_to_resume(const std::string& folder);

// Checks (read-only), creates, locks and prepares `config.out` for a run of `config`. With `restart`
// the run files already there are deleted. Throws gantry::Error with a message naming the folder and
// what to do, leaving every file as it was.
train::TakenRunFolder take_run_folder(const MogTrainConfig& config, bool resume, bool restart);

}  // namespace gantry::mog
