#pragma once
// How `mog train` takes over its run folder without ever losing or mislabelling a run. Every refusal
// happens before anything in the folder changes: a folder that already holds a run needs --resume
// (continue it) or --restart (discard it); a resumed run must match the run recorded in the folder
// and never trains it backwards; a folder in use by another process is refused with that process's
// pid. The folder is then locked (train::FolderLock) for as long as the returned object lives, and
// the leftovers of interrupted writes are cleared.
#include <optional>
#include <string>
#include <vector>

#include "train/folder_lock.h"
#include "train/mog/mog_config.h"
#include "train/mog/mog_run_loading.h"
#include "train/run_folder.h"

namespace gantry::mog {

// The files a run writes into its folder; any of them means the folder holds a run.
std::vector<std::string> run_files_in(const std::string& folder);

// The run recorded in `folder` that `--resume` would continue; throws gantry::Error naming the folder
// when it has no checkpoint (or read_recorded_run refuses it).
RecordedRun recorded_run_to_resume(const std::string& folder);

struct TakenRunFolder {
  train::RunFolder folder;
  train::FolderLock lock;
  std::optional<RecordedRun> resumed;  // with resume: the run continued, read and checked under the lock
  std::vector<std::string> notes;      // one line each: stale files removed, a run discarded, ...
};

// Checks (read-only), creates, locks and prepares `config.out` for a run of `config`. With `restart`
// the run files already there are deleted. Throws gantry::Error with a message naming the folder and
// what to do, leaving every file as it was.
TakenRunFolder take_run_folder(const MogTrainConfig& config, bool resume, bool restart);

}  // namespace gantry::mog
