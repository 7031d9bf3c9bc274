#include "train/cli/mog_grid.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "train/cli/child_process.h"
#include "train/cli/mog_commands.h"
#include "train/cli/summary_stats.h"
#include "train/data/mixture_of_gaussians.h"
#include "train/folder_lock.h"
#include "train/mog/mog_experiment.h"
#include "train/run_folder.h"
#include "train/run_progress.h"
#include "train/stop_request.h"

namespace gantry::cli {

std::vector<std::string> method_flags(const std::string& method) {
  if (method == "baseline") return {};
  if (method == "topk") return {"--topk"};
  if (method == "bottomk") return {"--bottomk"};
  if (method == "coreset") return {"--coreset-prior", "--coreset-data"};
  if (method == "both") return {"--topk", "--coreset-prior", "--coreset-data"};
  GANTRY_FAIL("--methods: unknown method '", method, "' (expected baseline, topk, bottomk, coreset, both)");
}

namespace {

struct RunCell {
  int64_t modes;
  std::string method;
  int seed;
  std::string folder;
  std::vector<std::string> args;  // of its `gantry mog train`
  mog::MogTrainConfig config;
};

// What a grid finds in a cell's run folder from an earlier (possibly interrupted) invocation.
enum class CellState { fresh, resume, finished };

// A finished run with the same configuration is kept; a run with a checkpoint is resumed (the child
// checks that its configuration matches); a folder holding a different configuration is an error,
// so results are never overwritten by a changed grid.
CellState inspect_cell(const std::string& folder, const mog::MogTrainConfig& wanted) {
  const std::filesystem::path dir(folder);
  if (!std::filesystem::exists(dir / mog::kConfigFile)) return CellState::fresh;
  const train::RunFolder run(folder);
  const mog::MogTrainConfig saved = mog::MogTrainConfig::from_json(run.read_json(mog::kConfigFile));
  const auto have = saved.identity_json(), want = wanted.identity_json();
  for (const auto& [key, value] : want.items())
    GANTRY_CHECK(have.contains(key) && have.at(key) == value, "mog grid: '", folder, "' holds a run with ", key,
                 " = ", have.contains(key) ? have.at(key).dump() : "(unset)", " but the grid asks for ", value.dump(),
                 "; choose another --out or delete that folder");
  if (run.exists(mog::kMetricsFile)) {
    const auto metrics = run.read_json(mog::kMetricsFile);
    if (metrics.value("finished", false) && metrics.value("step", int64_t{-1}) == wanted.steps &&
        saved.steps == wanted.steps && saved.eval_samples == wanted.eval_samples)
      return CellState::finished;
  }
  if (run.exists(mog::kCheckpointFile)) return CellState::resume;
  return CellState::fresh;
}

// The summary as a Markdown table (mean +- std over seeds, and the per-seed values).
void write_summary_markdown(const std::string& path, const nlohmann::json& summary) {
  std::string text = "| modes | method | % high quality | % modes recovered | within-mode std | runs | per run (HQ / modes) |\n"
                     "|---|---|---|---|---|---|---|\n";
  char line[512];
  for (const auto& row : summary.at("rows")) {
    const auto& hq = row.at("high_quality_percent");
    const auto& rec = row.at("modes_recovered_percent");
    std::string per_seed;
    for (size_t i = 0; i < hq.at("values").size(); ++i) {
      char cell[64];
      std::snprintf(cell, sizeof cell, "%s%.1f / %.0f", i ? ", " : "", hq.at("values")[i].get<double>(),
                    rec.at("values")[i].get<double>());
      per_seed += cell;
    }
    if (row.at("runs").get<size_t>() == 0) {
      std::snprintf(line, sizeof line, "| %lld | %s | - | - | - | 0 | |\n",
                    static_cast<long long>(row.at("modes").get<int64_t>()), row.at("method").get<std::string>().c_str());
      text += line;
      continue;
    }
    const auto& spread = row.at("within_mode_std");
    const size_t n = row.at("runs").get<size_t>();
    const auto cell = [n](const nlohmann::json& stats, int decimals) {
      return mean_pm_std(stats.at("mean").get<double>(), n > 1 ? stats.at("std").get<double>() : 0.0, n, decimals);
    };
    std::snprintf(line, sizeof line, "| %lld | %s | %s | %s | %s | %zu | %s |\n",
                  static_cast<long long>(row.at("modes").get<int64_t>()), row.at("method").get<std::string>().c_str(),
                  cell(hq, 1).c_str(), cell(rec, 1).c_str(), cell(spread, 4).c_str(), n, per_seed.c_str());
    text += line;
  }
  std::snprintf(line, sizeof line,
                "\n%lld steps per run, top-k decay every %lld steps; std over seeds (N-1; none for a single run). %zu run(s) not finished "
                "yet, %zu failed.\n",
                static_cast<long long>(summary.at("steps").get<int64_t>()),
                static_cast<long long>(summary.at("decay_every").get<int64_t>()), summary.at("pending_runs").size(),
                summary.at("failed_runs").size());
  text += line;
  io::write_file_atomic(path, text);
}

// A repeated entry would train two processes into one run folder at once and count that run twice.
template <typename T>
void check_distinct(const char* option, const std::vector<T>& values) {
  for (size_t i = 0; i < values.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      GANTRY_CHECK(!(values[i] == values[j]), option, ": ", values[i], " is listed twice; give each value once");
}

void validate_grid(const MogGridSpec& spec) {
  GANTRY_CHECK(!spec.modes.empty() && !spec.methods.empty(), "mog grid: --modes and --methods must not be empty");
  for (int64_t m : spec.modes)
    GANTRY_CHECK(data::perfect_square_side(m) > 0, "--modes: every entry must be a perfect square >= 1, got ", m);
  check_distinct("--modes", spec.modes);
  for (const auto& method : spec.methods) method_flags(method);
  check_distinct("--methods", spec.methods);
  GANTRY_CHECK(spec.seeds >= 1, "--seeds: must be >= 1, got ", spec.seeds);
  GANTRY_CHECK(spec.jobs >= 1, "--jobs: must be >= 1, got ", spec.jobs);
  const unsigned cores = std::thread::hardware_concurrency();  // 0: unknown
  GANTRY_CHECK(cores == 0 || static_cast<unsigned>(spec.jobs) <= cores, "--jobs: ", spec.jobs,
               " runs at once is more than the ", cores, " CPU cores of this machine; use --jobs ", cores,
               " or fewer (more runs would only take turns on the cores)");
  GANTRY_CHECK(spec.steps >= 1, "--steps: must be >= 1, got ", spec.steps);
  GANTRY_CHECK(spec.checkpoint_every >= 1, "--checkpoint-every: must be >= 1, got ", spec.checkpoint_every);
}

// Every cell with its `mog train` arguments, validated; touches nothing on disk.
std::vector<RunCell> plan_cells(const MogGridSpec& spec, int64_t decay_every) {
  std::vector<RunCell> cells;
  for (int64_t m : spec.modes)
    for (const auto& method : spec.methods)
      for (int s = 0; s < spec.seeds; ++s) {
        std::string name = "m";
        name += std::to_string(m) + "_" + method + "_seed" + std::to_string(s);
        RunCell cell{m, method, s, (std::filesystem::path(spec.out) / name).string(), {}, {}};
        std::vector<std::string> args = {"--modes", std::to_string(m),         "--steps", std::to_string(spec.steps),
                                         "--seed",  std::to_string(s),         "--decay-every",
                                         std::to_string(decay_every), "--out", cell.folder, "--quiet"};
        for (const auto& f : method_flags(method)) args.push_back(f);
        args.insert(args.end(), {"--checkpoint-every", std::to_string(spec.checkpoint_every)});
        for (const auto& a : spec.extra_args) args.push_back(a);
        cell.config = parse_mog_train_config(args);
        cell.config.validate();
        cell.args = std::move(args);
        cells.push_back(std::move(cell));
      }
  return cells;
}

}  // namespace

int MogGridResult::exit_status() const {
  if (stop_signal != 0) return 128 + stop_signal;
  return summary.at("failed_runs").empty() ? 0 : 1;
}

MogGridResult run_mog_grid(const MogGridSpec& spec) {
  validate_grid(spec);
  const int64_t decay_every =
      spec.decay_every > 0 ? spec.decay_every : std::max<int64_t>(1, spec.steps * 2000 / 100000);
  std::vector<RunCell> cells = plan_cells(spec, decay_every);
  train::RunFolder root(spec.out);
  // One grid per folder for the whole invocation: a second is refused, naming this process.
  const train::FolderLock lock(spec.out);

  // Every cell's folder is inspected before any run starts.
  std::vector<ChildJob> jobs;  // one per cell; exit_status 0 for cells kept from earlier
  std::vector<size_t> to_run;  // indices of the cells that train now
  std::vector<bool> resuming;  // per cell: continues from its checkpoint
  const std::string exe = self_executable_path();
  for (size_t i = 0; i < cells.size(); ++i) {
    const RunCell& cell = cells[i];
    const CellState state = inspect_cell(cell.folder, cell.config);
    ChildJob job;
    job.argv = {exe, "mog", "train"};
    job.argv.insert(job.argv.end(), cell.args.begin(), cell.args.end());
    if (state == CellState::resume) job.argv.push_back("--resume");
    job.log_path = cell.folder + "/stdout.log";
    if (state == CellState::finished) job.exit_status = 0;
    else if (!spec.summary_only) to_run.push_back(i);
    jobs.push_back(job);
    resuming.push_back(state == CellState::resume);
  }
  const size_t resumed = static_cast<size_t>(std::count(resuming.begin(), resuming.end(), true));
  std::printf("mog grid: %zu runs (%zu modes x %zu methods x %d seeds), %lld steps each -> %s\n", jobs.size(),
              spec.modes.size(), spec.methods.size(), spec.seeds, static_cast<long long>(spec.steps), spec.out.c_str());
  if (spec.summary_only)
    std::printf("  --summary-only: summarising the runs that finished; nothing trains\n");
  else
    std::printf("  %zu finished earlier (kept), %zu to resume from their checkpoints, %zu new; %d at a time\n",
                jobs.size() - to_run.size(), resumed, to_run.size() - resumed, spec.jobs);
  std::fflush(stdout);
  // Run order: interrupted runs first (their work is half done), then seed by seed across all cells, so
  // a grid stopped part-way has covered every (modes, method) cell before it repeats one with a new seed.
  std::stable_sort(to_run.begin(), to_run.end(), [&](size_t a, size_t b) {
    return std::make_pair(!resuming[a], cells[a].seed) < std::make_pair(!resuming[b], cells[b].seed);
  });
  std::vector<ChildJob> pending;
  for (size_t i : to_run) {
    std::filesystem::create_directories(cells[i].folder);
    pending.push_back(jobs[i]);
  }
  size_t done = 0;
  train::GridProgress progress(spec.steps, pending.size());
  // SIGINT/SIGTERM: no new runs; the running ones get the signal (they checkpoint and exit), and the
  // summary of what finished is written. A second signal ends the grid at once (children follow).
  const train::StopRequest stop;
  ChildJobHooks hooks;
  hooks.on_done = [&](size_t p) {
    const size_t i = to_run[p];
    jobs[i].exit_status = pending[p].exit_status;
    jobs[i].signalled = pending[p].signalled;
    ++done;
    const char* outcome = jobs[i].exit_status == 0 ? "done   " : jobs[i].signalled ? "stopped" : "FAILED ";
    std::printf("  [%zu/%zu] %s %s\n", done, pending.size(), outcome, cells[i].folder.c_str());
    std::fflush(stdout);
  };
  hooks.on_tick = [&](const std::vector<size_t>& running) {
    std::vector<train::GridProgress::Running> now;
    for (size_t p : running) {
      const std::string& folder = cells[to_run[p]].folder;
      now.push_back({std::filesystem::path(folder).filename().string(), folder + "/" + mog::kLogFile});
    }
    std::printf("%s\n", progress.line(now, done).c_str());
    std::fflush(stdout);
  };
  hooks.tick_seconds = spec.progress_every_seconds;
  hooks.stop_signal = [&stop] { return stop.signal(); };
  hooks.on_stop = [&](int) {
    std::printf(
        "mog grid: %s received; starting no more runs and stopping the running ones (each finishes its "
        "step and saves a checkpoint; a second signal stops everything at once)\n",
        stop.signal_name());
    std::fflush(stdout);
  };
  run_child_jobs(pending, spec.jobs, hooks);

  // Aggregate per (modes, method), in the order given.
  nlohmann::json rows = nlohmann::json::array();
  nlohmann::json failed = nlohmann::json::array();
  nlohmann::json not_run = nlohmann::json::array();  // not finished: not run (summary-only) or stopped
  std::map<std::pair<int64_t, std::string>, std::vector<size_t>> groups;
  for (size_t i = 0; i < cells.size(); ++i) groups[{cells[i].modes, cells[i].method}].push_back(i);
  std::printf("\n%-6s %-10s %-18s %-18s %s\n", "modes", "method", "% high quality", "% modes recovered", "runs");
  for (int64_t m : spec.modes)
    for (const auto& method : spec.methods) {
      std::vector<double> hq, rec, spread;
      for (size_t i : groups[{m, method}]) {
        if (jobs[i].exit_status == -1 || (jobs[i].signalled && jobs[i].exit_status != 0)) {
          not_run.push_back(cells[i].folder);
          continue;
        }
        if (jobs[i].exit_status != 0) {
          failed.push_back({{"folder", cells[i].folder}, {"exit_status", jobs[i].exit_status}});
          continue;
        }
        const auto metrics = train::RunFolder(cells[i].folder).read_json("metrics.json");
        hq.push_back(metrics.at("final").at("high_quality_percent").get<double>());
        rec.push_back(metrics.at("final").at("modes_recovered_percent").get<double>());
        spread.push_back(metrics.at("final").at("within_mode_std").get<double>());
      }
      const MeanStd h = mean_std(hq), r = mean_std(rec), w = mean_std(spread);
      std::printf("%-6lld %-10s %-18s %-18s %zu\n", static_cast<long long>(m), method.c_str(),
                  mean_pm_std(h.mean, h.std, hq.size(), 1).c_str(), mean_pm_std(r.mean, r.std, rec.size(), 1).c_str(),
                  hq.size());
      rows.push_back({{"modes", m},
                      {"method", method},
                      {"runs", hq.size()},
                      {"high_quality_percent", stats_json(h, hq)},
                      {"modes_recovered_percent", stats_json(r, rec)},
                      {"within_mode_std", stats_json(w, spread)}});
    }
  const nlohmann::json summary{
      {"steps", spec.steps},
      {"decay_every", decay_every},
      {"seeds", spec.seeds},
      {"rows", rows},
      {"failed_runs", failed},
      {"pending_runs", not_run},
      {"interrupted_by", stop.requested() ? nlohmann::json(stop.signal_name()) : nlohmann::json()},
      {"std_note", "sample standard deviation over seeds (N-1); null for a single run"}};
  root.write_json("summary.json", summary);
  write_summary_markdown(root.file("summary.md"), summary);
  std::printf("\nsummary: %s (and summary.md)\n", root.file("summary.json").c_str());
  if (!failed.empty()) std::printf("%zu run(s) failed; see their stdout.log\n", failed.size());
  if (!not_run.empty()) std::printf("%zu run(s) not finished yet (pending)\n", not_run.size());
  if (stop.requested()) {
    std::printf("mog grid: interrupted by %s; finished runs and the checkpoints of stopped ones are kept.\n",
                stop.signal_name());
    if (!not_run.empty() && !spec.repeat_command.empty())
      std::printf("To resume, run the same command again:\n  %s\n", spec.repeat_command.c_str());
  }
  std::fflush(stdout);
  return {summary, stop.signal()};
}

}  // namespace gantry::cli
