#include "train/run_folder_taking.h"

#include <filesystem>

#include "engine/core/error.h"

namespace gantry::train {

namespace {

namespace fs = std::filesystem;

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& n : names) text += (text.empty() ? "" : ", ") + n;
  return text;
}

void refuse_if_in_use(const std::string& folder) {
  const pid_t owner = FolderLock::holder(folder);
  GANTRY_CHECK(owner <= 0, "run folder: '", folder, "' is in use by another gantry process (pid ", owner,
               "); nothing was changed; wait for it to finish or stop it first");
}

// The run being resumed, checked against this invocation's configuration.
RecordedRun check_resumable(const RunRequest& r, const RunKind& kind) {
  RecordedRun run = recorded_run_to_resume(r.out, kind);
  if (const auto d = identity_difference(r.config.identity, run.config.identity, kind))
    GANTRY_FAIL("--resume: ", d->option, " is ", d->first, " but the run in '", r.out, "' was trained with ", d->key,
                " = ", d->second, " (recorded in ", run.config_source,
                "); a resumed run keeps its configuration: only ", kind.resumable_options(), " may change");
  const int64_t at = run.checkpoint.step;
  GANTRY_CHECK(r.config.steps >= at, "--resume: --steps ", r.config.steps, " is below step ", at,
               " of the checkpoint '", run.checkpoint.path, "'; a resumed run only trains further (give --steps ", at,
               " or more)");
  return run;
}

// Everything that may refuse the run, without changing anything. Returns the resumed run, if any.
// `locked`: this process holds the folder's lock already.
std::optional<RecordedRun> check_run_folder(const RunRequest& r, const RunKind& kind, bool locked) {
  GANTRY_CHECK(!(r.resume && r.restart), "--resume and --restart are mutually exclusive");
  if (!locked && fs::exists(r.out)) refuse_if_in_use(r.out);
  if (r.resume) return check_resumable(r, kind);
  if (!fs::exists(r.out)) return std::nullopt;  // RunFolder creates it (or names why it cannot)
  const std::vector<std::string> present = run_files_in(r.out, kind);
  GANTRY_CHECK(r.restart || present.empty(), "--out: '", r.out, "' already holds a run (", joined(present),
               "); nothing was changed. Continue it with --resume, or pass --restart to discard it and train afresh");
  return std::nullopt;
}

}  // namespace

RecordedRun recorded_run_to_resume(const std::string& folder, const RunKind& kind) {
  GANTRY_CHECK(fs::exists(fs::path(folder) / kind.checkpoint_file()), "--resume: no ", kind.checkpoint_file(),
               " in '", folder, "' (nothing to resume; start the run without --resume)");
  return read_recorded_run(folder, "--resume", kind);
}

std::vector<std::string> run_files_in(const std::string& folder, const RunKind& kind) {
  std::vector<std::string> present;
  for (const std::string& name : kind.run_files())
    if (fs::exists(fs::path(folder) / name)) present.push_back(name);
  return present;
}

TakenRunFolder take_run_folder(const RunRequest& r, const RunKind& kind) {
  check_run_folder(r, kind, /*locked=*/false);
  RunFolder folder(r.out);
  FolderLock lock(r.out);
  // Again under the lock: another process may have written a run here since the first look.
  TakenRunFolder taken{folder, std::move(lock), check_run_folder(r, kind, /*locked=*/true), {}};
  if (taken.resumed) taken.notes = taken.resumed->notes;
  const std::vector<std::string> stale = folder.remove_stale_temporaries();
  if (!stale.empty())
    taken.notes.push_back("removed " + std::to_string(stale.size()) +
                          " stale temporary file(s) of interrupted writes in '" + r.out + "': " + joined(stale));
  if (r.restart) {
    const std::vector<std::string> discarded = run_files_in(r.out, kind);
    for (const auto& name : discarded) fs::remove_all(folder.file(name));
    if (!discarded.empty())
      taken.notes.push_back("--restart: discarded the earlier run in '" + r.out + "' (" + joined(discarded) + ")");
  }
  if (taken.resumed && taken.resumed->checkpoint.step == r.config.steps)
    taken.notes.push_back("nothing to train: the checkpoint is at step " + std::to_string(r.config.steps) + " of " +
                          std::to_string(r.config.steps) + "; re-evaluating it");
  return taken;
}

}  // namespace gantry::train
