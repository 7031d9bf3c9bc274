#pragma once
// The summary of a grid (train/cli/run_grid.h): per row, mean +- std over seeds of each metric of
// the runs that finished; the failed and the unfinished (pending) runs listed by folder. Printed as a
// table to stdout and written as summary.json and summary.md into the grid folder.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "train/cli/run_grid.h"
#include "train/run_folder.h"

namespace gantry::cli {

struct GridRunOutcome {
  int exit_status = -1;    // -1: never run in this invocation and not finished before
  bool signalled = false;  // it was running when a stop signal was forwarded
};

// Prints the table, writes summary.json and summary.md into root, and returns the summary.
// interrupted_by: the stop signal's name, or "" when the grid was not interrupted.
nlohmann::json write_grid_summary(const GridPlan& plan, const train::RunFolder& root,
                                  const std::vector<GridRunOutcome>& outcomes, const std::string& interrupted_by);

}  // namespace gantry::cli
