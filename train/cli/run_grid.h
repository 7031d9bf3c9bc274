#pragma once
// A grid of training runs, each a child `gantry <kind> train` process, whatever the kind of run: up to
// --jobs of them at once, a train::FolderLock on the grid folder, finished runs kept and interrupted
// ones resumed on re-invocation, SIGINT/SIGTERM forwarded gracefully, progress lines, and a summary
// (mean +- std over seeds of metrics read from each run's metrics.json) printed and written to
// <out>/summary.json and summary.md. What is kind-specific (the runs' arguments, what a run folder
// from an earlier invocation means, which metrics are summarised) comes in a GridPlan.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/error.h"

namespace gantry::cli {

// What a grid finds in a run's folder from an earlier (possibly interrupted) invocation.
enum class GridRunState {
  fresh,     // nothing there yet
  restart,   // the same run, stopped before its first checkpoint: nothing to keep
  resume,    // the same run with a checkpoint: continued with --resume
  finished,  // the same run, finished: kept
};

// What a run folder from an earlier invocation holds, as recorded_run_state compares it.
struct RecordedGridRun {
  nlohmann::json identity;         // the identity JSON of its config.json
  int64_t steps = 0;               // its configured steps
  std::function<bool()> finished;  // its metrics.json says it finished as the grid asks
  bool has_checkpoint = false;
};

// A finished run with the same configuration is kept; a run with a checkpoint is resumed (the child
// checks that its configuration matches); a folder holding a different configuration, or a longer
// run, is an error naming the folder (`title` starts the message), so results are never overwritten.
GridRunState recorded_run_state(const std::string& title, const std::string& folder, const RecordedGridRun& saved,
                                const nlohmann::json& wanted_identity, int64_t wanted_steps);

struct GridRun {
  std::string folder;             // <out>/<name>, e.g. <out>/m25_topk_seed0
  std::vector<std::string> args;  // of the child after the gantry executable ("mog", "train", ...)
  int seed = 0;                   // runs go seed by seed across the grid
  size_t row = 0;                 // its summary row
};

// One summarised metric of a finished run: mean +- std over the seeds of a row.
struct GridMetric {
  std::string key;     // its name in summary.json rows
  std::string header;  // its column in summary.md (and on the console when shown there)
  int decimals = 1;
  bool on_console = true;
  int per_run_decimals = -1;  // >= 0: also listed run by run in summary.md's last column
  // Its value from a run's metrics.json; nullopt when the run has none (shown as missing, not as 0).
  std::function<std::optional<double>(const nlohmann::json& metrics)> read;
};

// The value at a '/'-separated path of metrics.json keys ("last_logged/d_loss"): a number, or a
// boolean as 1/0; nullopt when it is absent or null.
std::optional<double> metric_at_path(const nlohmann::json& metrics, const std::string& path);

struct GridKeyColumn {
  std::string key;  // in summary.json rows (and each row's key values)
  int console_width = 10;
};

struct GridSummaryDefinition {
  std::vector<GridKeyColumn> key_columns;  // the columns that name a row, e.g. modes and method
  std::vector<nlohmann::json> rows;        // each row's key values, e.g. {"modes": 25, "method": "topk"}
  std::vector<GridMetric> metrics;
  std::string per_run_header;  // summary.md's last column, e.g. "per run (HQ / modes)"
  std::string note;  // summary.md's footnote after "<steps> steps per run", e.g. ", top-k decay every 40 steps"
  nlohmann::json extra_fields = nlohmann::json::object();  // added to summary.json, e.g. decay_every
  // Reads a finished run's metrics.json (throws naming the file when it is malformed).
  std::function<nlohmann::json(const std::string& folder)> read_metrics;
};

// The settings every grid command has.
struct GridSettings {
  int seeds = 3;
  int jobs = 2;
  int64_t steps = 0;  // of every run
  std::string out;
  double progress_every_seconds = 60;  // a progress line while runs train (0: none)
  bool summary_only = false;           // summarise the finished runs; train nothing (unfinished runs are "pending")
  std::string repeat_command;          // this invocation's command line, shown as how to resume after an interrupt
};

struct GridPlan {
  std::string title;  // "mog grid": starts the grid's messages
  std::string shape;  // "2 modes x 4 methods x 3 seeds"
  GridSettings settings;
  std::vector<GridRun> runs;
  std::string log_file = "log.jsonl";  // in each run folder: JSON lines with "step" (progress)
  // Called with the index of every run before any starts; throws when its folder holds a different
  // run, so results are never overwritten by a changed grid.
  std::function<GridRunState(size_t run)> inspect;
  GridSummaryDefinition summary;
};

struct GridResult {
  nlohmann::json summary;  // as written to <out>/summary.json
  int stop_signal = 0;     // SIGINT or SIGTERM when the grid was interrupted (unfinished runs pending)
  // 128 + signal when interrupted, else 1 when some run failed, else 0.
  int exit_status() const;
};

// "2 modes x 4 methods x 3 seeds": the grid's axes (count, name) and its seeds.
std::string grid_shape(const std::vector<std::pair<size_t, std::string>>& axes, int seeds);

// The `<kind> train` flags of a grid method (both trainers share them); throws for an unknown one.
std::vector<std::string> method_flags(const std::string& method);

// --seeds, --jobs (at most the machine's cores) and --steps of a grid; throws naming the option.
void check_grid_sizes(int seeds, int jobs, int64_t steps);

// A repeated entry would train two processes into one run folder at once and count that run twice.
template <typename T>
void check_distinct(const char* option, const std::vector<T>& values) {
  for (size_t i = 0; i < values.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      GANTRY_CHECK(!(values[i] == values[j]), option, ": ", values[i], " is listed twice; give each value once");
}

// Runs the plan (holding a train::FolderLock on plan.out throughout), prints progress and the summary
// table to stdout, writes <out>/summary.json and summary.md and returns the summary. SIGINT/SIGTERM
// stop it gracefully: the running runs are sent the signal and waited for, the summary lists them as
// pending, and how to resume is printed.
GridResult run_grid(const GridPlan& plan);

}  // namespace gantry::cli
