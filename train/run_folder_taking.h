#pragma once
// How a training command takes over its run folder without ever losing or mislabelling a run, for
// every kind of run. Every refusal happens before anything in the folder changes: a folder that
// already holds a run needs --resume (continue it) or --restart (discard it); a resumed run must
// match the run recorded in the folder and never trains it backwards; a folder in use by another
// process is refused with that process's pid. The folder is then locked (FolderLock) for as long as
// the returned object lives, and the leftovers of interrupted writes are cleared.
#include <optional>
#include <string>
#include <vector>

#include "train/folder_lock.h"
#include "train/recorded_run.h"
#include "train/run_folder.h"
#include "train/run_kind.h"

namespace gantry::train {

// The run files of `kind` present in `folder`.
std::vector<std::string> run_files_in(const std::string& folder, const RunKind& kind);

// The run recorded in `folder` that `--resume` would continue; throws gantry::Error naming the folder
// when it has no checkpoint (or read_recorded_run refuses it).
RecordedRun recorded_run_to_resume(const std::string& folder, const RunKind& kind);

struct TakenRunFolder {
  RunFolder folder;
  FolderLock lock;
  std::optional<RecordedRun> resumed;  // with resume: the run continued, read and checked under the lock
  std::vector<std::string> notes;      // one line each: stale files removed, a run discarded, ...
};

// What a training invocation asks of its folder.
struct RunRequest {
  std::string out;          // the run folder
  RecordedConfig config;    // this invocation's configuration, as its kind parses it
  bool resume = false;
  bool restart = false;
};

// Checks (read-only), creates, locks and prepares `request.out`. With `restart` the run files already
// there are deleted. Throws gantry::Error with a message naming the folder and what to do, leaving
// every file as it was.
TakenRunFolder take_run_folder(const RunRequest& request, const RunKind& kind);

}  // namespace gantry::train
