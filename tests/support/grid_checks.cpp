#include "tests/support/grid_checks.h"

#include <gtest/gtest.h>

#include "tests/support/process_util.h"
#include "tests/support/run_files.h"

namespace gantry::testing {

void expect_grid_resumes_to_the_end(const std::vector<std::string>& args, const std::string& output_path,
                                    const std::string& out, const std::vector<std::string>& runs, int64_t steps) {
  // Minutes under the sanitizers on a loaded machine: the limit only catches a hang.
  const auto [code, resumed] = run_gantry(args, output_path, Millis(600000));
  ASSERT_EQ(code, 0) << "exit " << code << " (-1: still running after 600 s)\n" << resumed;
  const std::string counts =
      "0 finished earlier (kept), " + std::to_string(runs.size()) + " to resume from their checkpoints, 0 new";
  EXPECT_NE(resumed.find(counts), std::string::npos) << resumed;
  const auto finished = read_json_file(out + "/summary.json");
  EXPECT_TRUE(finished.at("pending_runs").empty()) << finished.dump(2);
  EXPECT_TRUE(finished.at("interrupted_by").is_null());
  for (const auto& row : finished.at("rows")) EXPECT_EQ(row.at("runs"), 1) << row.dump();
  for (const auto& run : runs) EXPECT_EQ(read_json_file(out + "/" + run + "/metrics.json").at("step"), steps) << run;
}

}  // namespace gantry::testing
