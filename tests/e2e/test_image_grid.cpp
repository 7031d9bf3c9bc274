// `gantry image grid` end to end on a small image folder the test writes: a 2 x 2 grid trains, its
// summary table and summary.json hold every run's last logged losses and steps/s, a re-run keeps the
// finished runs and resumes the one whose metrics are gone, and a SIGINT stops the runs with
// checkpoints, lists them as pending and says how to resume, which the same command then does.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/grid_checks.h"
#include "tests/support/image_files.h"
#include "tests/support/process_util.h"
#include "tests/support/run_files.h"
#include "tests/support/temp_folder.h"

namespace gantry {
namespace {

namespace fs = std::filesystem;
using testing::Millis;
using testing::TempFolder;

// Tiny networks on 32x32 images; --checkpoint-every above --steps, so only a graceful stop (or the
// end of a run) leaves a checkpoint behind.
std::vector<std::string> grid_args(const std::string& images, const std::string& out, const std::string& models,
                                   const std::string& steps) {
  std::istringstream words(
      "image grid --methods baseline,topk --seeds 1 --jobs 2 --progress-every 0 -- --image-size 32 "
      "--g-width 8 --d-width 8 --latent-dim 8 --batch 8 --log-every 2 --checkpoint-every 100000");
  std::vector<std::string> args;
  for (std::string word; words >> word;) args.push_back(word);
  // The grid's own options go before the `--`.
  const auto split = std::find(args.begin(), args.end(), "--");
  args.insert(split, {"--models", models, "--dataset", images, "--steps", steps, "--out", out});
  return args;
}

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool has_line(const std::string& text, const std::string& pattern) {
  return std::regex_search(text, std::regex(pattern, std::regex::multiline));
}

// A grid folder whose processes are killed when the test ends, so a failed check leaves none running.
class GridFolder : public TempFolder {
 public:
  explicit GridFolder(const std::string& name) : TempFolder(name) {
    testing::write_patterned_png_folder(sub("images"), 48, 32);
  }
  ~GridFolder() { testing::kill_processes_mentioning(path()); }
};

TEST(ImageGrid, SummarisesEveryRunAndARerunKeepsTheFinishedOnes) {
  GridFolder tmp("image_grid_tiny");
  const std::string out = tmp.sub("grid");
  const auto args = grid_args(tmp.sub("images"), out, "dcgan,sngan", "6");
  const auto [code, text] = testing::run_gantry(args, tmp.sub("grid.out"));
  ASSERT_EQ(code, 0) << text;
  EXPECT_NE(text.find("image grid: 4 runs (2 models x 2 methods x 1 seeds), 6 steps each"), std::string::npos) << text;
  EXPECT_NE(text.find("0 finished earlier (kept), 0 to resume from their checkpoints, 4 new"), std::string::npos)
      << text;
  EXPECT_TRUE(has_line(text, "^model +method +d loss \\(last log\\) +g loss \\(last log\\) +steps/s +runs$")) << text;

  const auto summary = testing::read_json_file(out + "/summary.json");
  ASSERT_EQ(summary.at("rows").size(), 4u) << summary.dump(2);
  EXPECT_TRUE(summary.at("pending_runs").empty() && summary.at("failed_runs").empty()) << summary.dump(2);
  EXPECT_EQ(summary.at("steps"), 6);
  for (const auto& row : summary.at("rows")) {
    const std::string model = row.at("model"), method = row.at("method");
    const auto metrics = testing::read_json_file(out + "/" + model + "_" + method + "_seed0/metrics.json");
    EXPECT_EQ(row.at("runs"), 1) << row.dump();
    // Every column is that run's own value, at 6 steps with a log record every 2.
    EXPECT_EQ(metrics.at("last_logged").at("step"), 6);
    const double d_loss = metrics.at("last_logged").at("d_loss"), g_loss = metrics.at("last_logged").at("g_loss");
    const double rate = metrics.at("steps_per_second");
    EXPECT_EQ(row.at("last_logged/d_loss").at("values"), nlohmann::json::array({d_loss})) << row.dump();
    EXPECT_EQ(row.at("last_logged/g_loss").at("values"), nlohmann::json::array({g_loss})) << row.dump();
    EXPECT_EQ(row.at("steps_per_second").at("values"), nlohmann::json::array({rate})) << row.dump();
    char line[256];
    std::snprintf(line, sizeof line, "^%s +%s +%.4f +%.4f +%.2f +1$", model.c_str(), method.c_str(), d_loss, g_loss,
                  rate);
    EXPECT_TRUE(has_line(text, line)) << line << "\n" << text;
  }

  // Re-run: three runs are kept as they are, the one without metrics.json resumes from its checkpoint.
  const std::string kept = out + "/dcgan_topk_seed0/metrics.json";
  const std::string kept_before = file_text(kept);
  fs::remove(out + "/sngan_topk_seed0/metrics.json");
  const auto [again, rerun] = testing::run_gantry(args, tmp.sub("rerun.out"));
  ASSERT_EQ(again, 0) << rerun;
  EXPECT_NE(rerun.find("3 finished earlier (kept), 1 to resume from their checkpoints, 0 new"), std::string::npos)
      << rerun;
  EXPECT_TRUE(has_line(rerun, "\\[1/1\\] done +[^ ]*sngan_topk_seed0$")) << rerun;
  EXPECT_EQ(file_text(kept), kept_before) << "a finished run was trained again";
  EXPECT_TRUE(fs::exists(out + "/sngan_topk_seed0/metrics.json"));
  EXPECT_EQ(testing::read_json_file(out + "/summary.json").at("rows").size(), 4u);
}

TEST(ImageGrid, SigintStopsTheRunsWithCheckpointsAndTheSameCommandResumesThem) {
  testing::become_subreaper();  // an orphaned run would become our child: visible, and reaped by us
  GridFolder tmp("image_grid_sigint");
  const std::string out = tmp.sub("grid");
  const auto args = grid_args(tmp.sub("images"), out, "dcgan", "600");
  const std::vector<std::string> runs = {"dcgan_baseline_seed0", "dcgan_topk_seed0"};
  testing::GantryProcess grid(args, tmp.sub("grid.out"), /*new_process_group=*/true);
  const std::vector<pid_t> children = testing::wait_for_training_children(
      grid, {out + "/" + runs[0] + "/log.jsonl", out + "/" + runs[1] + "/log.jsonl"}, 10, Millis(60000));
  ASSERT_TRUE(grid.running() && children.size() == 2) << grid.output();

  ::kill(-grid.pid(), SIGINT);  // as a terminal's Ctrl-C: the grid's whole process group
  const auto status = grid.wait_for(Millis(60000));
  ASSERT_TRUE(status.has_value()) << "the grid did not stop\n" << grid.output();
  const std::string text = grid.output();
  ASSERT_TRUE(WIFEXITED(*status)) << text;
  EXPECT_EQ(WEXITSTATUS(*status), 128 + SIGINT) << text;
  for (pid_t child : children)
    EXPECT_TRUE(testing::process_gone(child)) << "run process " << child << " is still there";
  const auto summary = testing::read_json_file(out + "/summary.json");
  EXPECT_EQ(summary.at("pending_runs").size(), 2u) << summary.dump(2);
  EXPECT_EQ(summary.at("interrupted_by"), "SIGINT");
  EXPECT_NE(text.find("image grid: interrupted by SIGINT"), std::string::npos) << text;
  EXPECT_NE(text.find("To resume, run the same command again:\n  "), std::string::npos) << text;
  EXPECT_NE(text.find("image grid --methods baseline,topk"), std::string::npos) << text;
  EXPECT_NE(text.find("--models dcgan"), std::string::npos) << text;
  EXPECT_NE(text.find(" -- --image-size 32 "), std::string::npos) << text;  // the options for every run, too
  for (const auto& run : runs) {
    ASSERT_TRUE(fs::exists(out + "/" + run + "/checkpoint.safetensors")) << run << " stopped without a checkpoint";
    EXPECT_FALSE(fs::exists(out + "/" + run + "/metrics.json"))
        << run << " finished before the signal; make runs longer";
  }

  testing::expect_grid_resumes_to_the_end(args, tmp.sub("resume.out"), out, runs, 600);
}

}  // namespace
}  // namespace gantry
