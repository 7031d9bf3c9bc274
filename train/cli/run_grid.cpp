#include "train/cli/run_grid.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <thread>

#include "train/cli/child_process.h"
#include "train/cli/grid_summary.h"
#include "train/cli/mog_commands.h"
#include "train/folder_lock.h"
#include "train/run_folder.h"
#include "train/run_progress.h"
#include "train/stop_request.h"

namespace gantry::cli {

std::vector<std::string> method_flags(const std::string& method) {
  if (method == "baseline") return {};
  if (method == "topk") return {"--topk"};
  if (method == "bottomk") return {"--bottomk"};
  if (method == "softtopk") return {"--soft-topk"};
  if (method == "coreset") return {"--coreset-prior", "--coreset-data"};
  if (method == "both") return {"--topk", "--coreset-prior", "--coreset-data"};
  GANTRY_FAIL("--methods: unknown method '", method, "' (expected baseline, topk, bottomk, softtopk, coreset, both)");
}

std::string grid_shape(const std::vector<std::pair<size_t, std::string>>& axes, int seeds) {
  std::string shape;
  for (const auto& [count, name] : axes) shape += std::to_string(count) + " " + name + " x ";
  return shape + std::to_string(seeds) + " seeds";
}

std::optional<double> metric_at_path(const nlohmann::json& metrics, const std::string& path) {
  const nlohmann::json* at = &metrics;
  std::istringstream keys(path);
  for (std::string key; std::getline(keys, key, '/');) {
    if (!at->is_object() || !at->contains(key)) return std::nullopt;
    at = &(*at)[key];
  }
  if (at->is_boolean()) return at->get<bool>() ? 1.0 : 0.0;
  if (at->is_number()) return at->get<double>();
  return std::nullopt;
}

GridRunState recorded_run_state(const std::string& title, const std::string& folder, const RecordedGridRun& saved,
                                const nlohmann::json& wanted_identity, int64_t wanted_steps) {
  const nlohmann::json& have = saved.identity;
  for (const auto& [key, value] : wanted_identity.items())
    GANTRY_CHECK(have.contains(key) && have.at(key) == value, title, ": '", folder, "' holds a run with ", key, " = ",
                 have.contains(key) ? have.at(key).dump() : "(unset)", " but the grid asks for ", value.dump(),
                 "; choose another --out or delete that folder");
  if (saved.finished()) return GridRunState::finished;
  GANTRY_CHECK(saved.steps <= wanted_steps, title, ": '", folder, "' holds a run of ", saved.steps,
               " steps but the grid asks for ", wanted_steps,
               "; a run is never shortened: choose another --out or --steps ", saved.steps, " or more");
  return saved.has_checkpoint ? GridRunState::resume : GridRunState::restart;
}

void check_grid_sizes(int seeds, int jobs, int64_t steps) {
  GANTRY_CHECK(seeds >= 1, "--seeds: must be >= 1, got ", seeds);
  GANTRY_CHECK(jobs >= 1, "--jobs: must be >= 1, got ", jobs);
  const unsigned cores = std::thread::hardware_concurrency();  // 0: unknown
  GANTRY_CHECK(cores == 0 || static_cast<unsigned>(jobs) <= cores, "--jobs: ", jobs, " runs at once is more than the ",
               cores, " CPU cores of this machine; use --jobs ", cores,
               " or fewer (more runs would only take turns on the cores)");
  GANTRY_CHECK(steps >= 1, "--steps: must be >= 1, got ", steps);
}

int GridResult::exit_status() const {
  if (stop_signal != 0) return 128 + stop_signal;
  return summary.at("failed_runs").empty() ? 0 : 1;
}

GridResult run_grid(const GridPlan& plan) {
  const GridSettings& settings = plan.settings;
  const std::vector<GridRun>& runs = plan.runs;
  // One grid per folder for the whole invocation: a second is refused, naming this process.
  const train::RunFolder root(settings.out);
  const train::FolderLock lock(settings.out);

  // Every run's folder is inspected before any run starts.
  std::vector<ChildJob> jobs;                         // one per run
  std::vector<GridRunOutcome> outcomes(runs.size());  // exit_status 0 for runs kept from earlier
  std::vector<size_t> to_run;                         // indices of the runs that train now
  std::vector<bool> resuming;                         // per run: continues from its checkpoint
  const std::string exe = self_executable_path();
  for (size_t i = 0; i < runs.size(); ++i) {
    const GridRunState state = plan.inspect(i);
    ChildJob job;
    job.argv = {exe};
    job.argv.insert(job.argv.end(), runs[i].args.begin(), runs[i].args.end());
    if (state == GridRunState::resume) job.argv.push_back("--resume");
    if (state == GridRunState::restart) job.argv.push_back("--restart");
    job.log_path = runs[i].folder + "/stdout.log";
    if (state == GridRunState::finished) outcomes[i].exit_status = 0;
    else if (!settings.summary_only) to_run.push_back(i);
    jobs.push_back(job);
    resuming.push_back(state == GridRunState::resume);
  }
  const size_t resumed = static_cast<size_t>(std::count(resuming.begin(), resuming.end(), true));
  std::printf("%s: %zu runs (%s), %lld steps each -> %s\n", plan.title.c_str(), runs.size(), plan.shape.c_str(),
              static_cast<long long>(settings.steps), settings.out.c_str());
  if (settings.summary_only) std::printf("  --summary-only: summarising the runs that finished; nothing trains\n");
  else
    std::printf("  %zu finished earlier (kept), %zu to resume from their checkpoints, %zu new; %d at a time\n",
                runs.size() - to_run.size(), resumed, to_run.size() - resumed, settings.jobs);
  std::fflush(stdout);
  // Run order: interrupted runs first (their work is half done), then seed by seed across all rows, so
  // a grid stopped part-way has covered every row before it repeats one with a new seed.
  std::stable_sort(to_run.begin(), to_run.end(), [&](size_t a, size_t b) {
    return std::make_pair(!resuming[a], runs[a].seed) < std::make_pair(!resuming[b], runs[b].seed);
  });
  std::vector<ChildJob> pending;
  for (size_t i : to_run) {
    std::filesystem::create_directories(runs[i].folder);
    pending.push_back(jobs[i]);
  }
  size_t done = 0;
  train::GridProgress progress(settings.steps, pending.size());
  // SIGINT/SIGTERM: no new runs; the running ones get the signal (they checkpoint and exit), and the
  // summary of what finished is written. A second signal ends the grid at once (children follow).
  const train::StopRequest stop;
  ChildJobHooks hooks;
  hooks.on_done = [&](size_t p) {
    const size_t i = to_run[p];
    outcomes[i] = {pending[p].exit_status, pending[p].signalled};
    ++done;
    const char* outcome = outcomes[i].exit_status == 0 ? "done   " : outcomes[i].signalled ? "stopped" : "FAILED ";
    std::printf("  [%zu/%zu] %s %s\n", done, pending.size(), outcome, runs[i].folder.c_str());
    std::fflush(stdout);
  };
  hooks.on_tick = [&](const std::vector<size_t>& running) {
    std::vector<train::GridProgress::Running> now;
    for (size_t p : running) {
      const std::string& folder = runs[to_run[p]].folder;
      now.push_back({std::filesystem::path(folder).filename().string(), folder + "/" + plan.log_file});
    }
    std::printf("%s\n", progress.line(now, done).c_str());
    std::fflush(stdout);
  };
  hooks.tick_seconds = settings.progress_every_seconds;
  hooks.stop_signal = [&stop] { return stop.signal(); };
  hooks.on_stop = [&](int) {
    std::printf(
        "%s: %s received; starting no more runs and stopping the running ones (each finishes its "
        "step and saves a checkpoint; a second signal stops everything at once)\n",
        plan.title.c_str(), stop.signal_name());
    std::fflush(stdout);
  };
  run_child_jobs(pending, settings.jobs, hooks);

  const nlohmann::json summary = write_grid_summary(plan, root, outcomes, stop.requested() ? stop.signal_name() : "");
  const size_t failed = summary.at("failed_runs").size(), not_finished = summary.at("pending_runs").size();
  std::printf("\nsummary: %s (and summary.md)\n", root.file("summary.json").c_str());
  if (failed > 0) std::printf("%zu run(s) failed; see their stdout.log\n", failed);
  if (not_finished > 0) std::printf("%zu run(s) not finished yet (pending)\n", not_finished);
  if (stop.requested()) {
    std::printf("%s: interrupted by %s; finished runs and the checkpoints of stopped ones are kept.\n",
                plan.title.c_str(), stop.signal_name());
    if (not_finished > 0 && !settings.repeat_command.empty())
      std::printf("To resume, run the same command again:\n  %s\n", settings.repeat_command.c_str());
  }
  std::fflush(stdout);
  return {summary, stop.signal()};
}

}  // namespace gantry::cli
