// A running `gantry mog grid` (two runs at once) interrupted by SIGINT (as a terminal's Ctrl-C, to its
// whole process group) or SIGTERM (to its pid): its runs stop with checkpoints, no process is left
// behind, the summary of what finished is written with the stopped runs pending, the grid exits
// 128 + signal saying how to resume, and the same command then resumes and finishes them. While it
// runs, a second grid on its folder is refused naming it; a grid killed outright takes its runs along.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/grid_checks.h"
#include "tests/support/process_util.h"
#include "tests/support/run_files.h"
#include "tests/support/temp_folder.h"

namespace gantry {
namespace {

namespace fs = std::filesystem;
using testing::GantryProcess;
using testing::Millis;
using testing::TempFolder;

const std::vector<std::string> kRuns = {"m4_baseline_seed0", "m4_topk_seed0"};

// Runs long enough to be caught running; --checkpoint-every above --steps, so only a graceful stop
// leaves a checkpoint behind.
std::vector<std::string> grid_args(const std::string& out) {
  return {"mog",
          "grid",
          "--modes",
          "4",
          "--methods",
          "baseline,topk",
          "--seeds",
          "1",
          "--jobs",
          "2",
          "--steps",
          "2500",
          "--batch",
          "16",
          "--eval-samples",
          "300",
          "--progress-every",
          "0",
          "--checkpoint-every",
          "100000",
          "--out",
          out};
}

// Starts the grid and returns its two training children once both have logged a few steps.
std::vector<pid_t> wait_for_two_training_runs(GantryProcess& grid, const std::string& out) {
  std::vector<std::string> logs;
  for (const auto& run : kRuns) logs.push_back(out + "/" + run + "/log.jsonl");
  const std::vector<pid_t> children = testing::wait_for_training_children(grid, logs, 10, Millis(60000));
  EXPECT_EQ(children.size(), 2u) << grid.output();
  return children;
}

void expect_nothing_left_behind(const std::vector<pid_t>& children, const std::string& out) {
  for (pid_t child : children)
    EXPECT_TRUE(testing::process_gone(child)) << "run process " << child << " is still there";
  EXPECT_TRUE(testing::processes_mentioning(out).empty()) << "a process still works in " << out;
}

// A grid folder whose processes are killed when the test ends, so a failed check leaves none running.
class GridFolder : public TempFolder {
 public:
  explicit GridFolder(const std::string& name) : TempFolder(name) { fs::create_directories(path()); }
  ~GridFolder() { testing::kill_processes_mentioning(path()); }
};

class GridSignals : public ::testing::TestWithParam<int> {};

TEST_P(GridSignals, StopTheRunsWriteTheSummaryAndResumeWithTheSameCommand) {
  const int sig = GetParam();
  const std::string name = std::string("SIG") + sigabbrev_np(sig);
  testing::become_subreaper();  // an orphaned run would become our child: visible, and reaped by us
  GridFolder tmp(std::string("grid_") + sigabbrev_np(sig));
  const std::string out = tmp.sub("grid");
  const auto args = grid_args(out);
  GantryProcess grid(args, tmp.sub("grid.out"), /*new_process_group=*/true);
  const std::vector<pid_t> children = wait_for_two_training_runs(grid, out);
  ASSERT_EQ(children.size(), 2u);

  // The folder is locked for the grid's whole run: a second grid, or a summary, is refused naming it.
  for (const bool summary_only : {false, true}) {
    auto second = args;
    if (summary_only) second.push_back("--summary-only");
    const auto [code, text] = testing::run_gantry(second, tmp.sub("second.out"));
    EXPECT_NE(code, 0) << text;
    EXPECT_NE(text.find("is in use by another gantry process (pid " + std::to_string(grid.pid()) + ")"),
              std::string::npos)
        << text;
  }

  // SIGINT as a terminal sends it (to the foreground process group), SIGTERM as kill(1) does.
  if (sig == SIGINT) ::kill(-grid.pid(), sig);
  else grid.signal(sig);
  const auto status = grid.wait_for(Millis(60000));
  ASSERT_TRUE(status.has_value()) << "the grid did not stop\n" << grid.output();
  const std::string text = grid.output();
  ASSERT_TRUE(WIFEXITED(*status)) << "killed by signal " << WTERMSIG(*status) << "\n" << text;
  EXPECT_EQ(WEXITSTATUS(*status), 128 + sig) << text;
  expect_nothing_left_behind(children, out);

  const auto summary = testing::read_json_file(out + "/summary.json");
  EXPECT_EQ(summary.at("pending_runs").size(), 2u) << summary.dump(2);
  EXPECT_TRUE(summary.at("failed_runs").empty()) << summary.dump(2);
  EXPECT_EQ(summary.at("interrupted_by"), name);
  EXPECT_NE(text.find("interrupted by " + name), std::string::npos) << text;
  EXPECT_NE(text.find("To resume, run the same command again:\n  "), std::string::npos) << text;
  EXPECT_NE(text.find("mog grid --modes 4 --methods baseline,topk"), std::string::npos) << text;
  for (const auto& run : kRuns) {
    const std::string folder = out + "/" + run;
    ASSERT_TRUE(fs::exists(folder + "/checkpoint.safetensors")) << run << " stopped without a checkpoint";
    EXPECT_GE(testing::checkpoint_run_state(folder + "/checkpoint.safetensors").at("step").get<int64_t>(), 10) << run;
    EXPECT_FALSE(fs::exists(folder + "/metrics.json")) << run << " finished before the signal; make runs longer";
  }

  testing::expect_grid_resumes_to_the_end(args, tmp.sub("resume.out"), out, kRuns, 2500);
}

INSTANTIATE_TEST_SUITE_P(Signals, GridSignals, ::testing::Values(SIGINT, SIGTERM),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(sigabbrev_np(info.param));
                         });

// A grid killed outright cannot forward anything; the kernel sends its runs SIGTERM (they checkpoint
// and exit) instead of leaving them training with no parent.
TEST(GridKilled, ItsRunsStopWithCheckpointsInsteadOfTrainingOn) {
  testing::become_subreaper();
  GridFolder tmp("grid_kill9");
  const std::string out = tmp.sub("grid");
  GantryProcess grid(grid_args(out), tmp.sub("grid.out"));
  const std::vector<pid_t> children = wait_for_two_training_runs(grid, out);
  ASSERT_EQ(children.size(), 2u);
  grid.signal(SIGKILL);
  ASSERT_TRUE(grid.wait_for(Millis(10000)).has_value());
  for (pid_t child : children) {
    int status = 0;
    // Orphans are re-parented to this process (a subreaper), so it can wait for them.
    ASSERT_TRUE(testing::wait_until([&] { return ::waitpid(child, &status, WNOHANG) == child; }, Millis(30000)))
        << "run process " << child << " kept running after its grid was killed";
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGTERM) << "status " << status;
  }
  expect_nothing_left_behind(children, out);
  for (const auto& run : kRuns) EXPECT_TRUE(fs::exists(out + "/" + run + "/checkpoint.safetensors")) << run;
}

}  // namespace
}  // namespace gantry
