#include "train/mog/mog_run_folder.h"

#include <filesystem>

#include "engine/core/error.h"
#include "train/mog/mog_experiment.h"

namespace gantry::mog {

namespace {

namespace fs = std::filesystem;

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& n : names) text += (text.empty() ? "" : ", ") + n;
  return text;
}

void refuse_if_in_use(const std::string& folder) {
  const pid_t owner = train::FolderLock::holder(folder);
  GANTRY_CHECK(owner <= 0, "run folder: '", folder, "' is in use by another gantry process (pid ", owner,
               "); nothing was changed; wait for it to finish or stop it first");
}

// The run being resumed, checked against this invocation's configuration.
RecordedRun check_resumable(const MogTrainConfig& c) {
  RecordedRun run = recorded_run_to_resume(c.out);
  if (const auto d = identity_difference(c, run.config))
    GANTRY_FAIL("--resume: ", d->option, " is ", d->first, " but the run in '", c.out, "' was trained with ", d->key,
                " = ", d->second, " (recorded in ", run.config_source,
                "); a resumed run keeps its configuration: only --steps, --eval-every, --eval-samples, --log-every, "
                "--checkpoint-every, --threads and --device may change");
  const int64_t at = run.checkpoint.step;
  GANTRY_CHECK(c.steps >= at, "--resume: --steps ", c.steps, " is below step ", at, " of the checkpoint '",
               run.checkpoint.path, "'; a resumed run only trains further (give --steps ", at, " or more)");
  return run;
}

// Everything that may refuse the run, without changing anything. Returns the resumed run, if any.
// `locked`: this process holds the folder's lock already.
std::optional<RecordedRun> check_run_folder(const MogTrainConfig& c, bool resume, bool restart, bool locked) {
  GANTRY_CHECK(!(resume && restart), "--resume and --restart are mutually exclusive");
  if (!locked && fs::exists(c.out)) refuse_if_in_use(c.out);
  if (resume) return check_resumable(c);
  if (!fs::exists(c.out)) return std::nullopt;  // RunFolder creates it (or names why it cannot)
  const std::vector<std::string> present = run_files_in(c.out);
  GANTRY_CHECK(restart || present.empty(), "--out: '", c.out, "' already holds a run (", joined(present),
               "); nothing was changed. Continue it with --resume, or pass --restart to discard it and train afresh");
  return std::nullopt;
}

}  // namespace

RecordedRun recorded_run_to_resume(const std::string& folder) {
  GANTRY_CHECK(fs::exists(fs::path(folder) / kCheckpointFile), "--resume: no ", kCheckpointFile, " in '", folder,
               "' (nothing to resume; start the run without --resume)");
  return read_recorded_run(folder, "--resume");
}

std::vector<std::string> run_files_in(const std::string& folder) {
  std::vector<std::string> present;
  for (const char* name : {kConfigFile, kCheckpointFile, kMetricsFile, kLogFile, kSamplesFile})
    if (fs::exists(fs::path(folder) / name)) present.push_back(name);
  return present;
}

TakenRunFolder take_run_folder(const MogTrainConfig& c, bool resume, bool restart) {
  check_run_folder(c, resume, restart, /*locked=*/false);
  train::RunFolder folder(c.out);
  train::FolderLock lock(c.out);
  // Again under the lock: another process may have written a run here since the first look.
  TakenRunFolder taken{folder, std::move(lock), check_run_folder(c, resume, restart, /*locked=*/true), {}};
  if (taken.resumed) taken.notes = taken.resumed->notes;
  const std::vector<std::string> stale = folder.remove_stale_temporaries();
  if (!stale.empty())
    taken.notes.push_back("removed " + std::to_string(stale.size()) +
                          " stale temporary file(s) of interrupted writes in '" + c.out + "': " + joined(stale));
  if (restart) {
    const std::vector<std::string> discarded = run_files_in(c.out);
    for (const auto& name : discarded) fs::remove(folder.file(name));
    if (!discarded.empty())
      taken.notes.push_back("--restart: discarded the earlier run in '" + c.out + "' (" + joined(discarded) + ")");
  }
  if (taken.resumed && taken.resumed->checkpoint.step == c.steps)
    taken.notes.push_back("nothing to train: the checkpoint is at step " + std::to_string(c.steps) + " of " +
                          std::to_string(c.steps) + "; re-evaluating it");
  return taken;
}

}  // namespace gantry::mog
