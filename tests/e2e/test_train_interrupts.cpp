// A real `gantry mog train` process interrupted: killed with SIGKILL at random points (many inside a
// checkpoint write) and resumed each time, or stopped by SIGINT/SIGTERM, it must end bit-identical to
// an uninterrupted run: the same final checkpoint (every tensor's bytes, the step, RNG and policy
// state) and the same log.jsonl records.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/io/safetensors.h"
#include "tests/support/process_util.h"
#include "tests/support/run_files.h"
#include "tests/support/temp_folder.h"
#include "train/run_progress.h"

namespace gantry {
namespace {

namespace fs = std::filesystem;
using testing::GantryProcess;
using testing::Millis;
using testing::TempFolder;

// A tiny run with every piece of resumable state in play: top-k schedule, both core-sets, evaluations
// in the log. Every option is given, so a resume does not depend on any default.
std::vector<std::string> train_args(const std::string& out, int64_t steps, int64_t checkpoint_every) {
  return {"mog",
          "train",
          "--modes",
          "4",
          "--steps",
          std::to_string(steps),
          "--batch",
          "16",
          "--seed",
          "7",
          "--lr",
          "1e-3",
          "--topk",
          "--decay-every",
          "5",
          "--gamma",
          "0.9",
          "--nu",
          "0.5",
          "--coreset-prior",
          "--coreset-data",
          "--eval-every",
          "25",
          "--eval-samples",
          "300",
          "--log-every",
          "1",
          "--checkpoint-every",
          std::to_string(checkpoint_every),
          "--threads",
          "1",
          "--quiet",
          "--out",
          out};
}

std::vector<std::string> with_resume(std::vector<std::string> args) {
  args.push_back("--resume");
  return args;
}

void train_to_completion(const std::vector<std::string>& args, const std::string& output) {
  const auto [code, text] = testing::run_gantry(args, output);
  ASSERT_EQ(code, 0) << text;
}

void expect_same_checkpoint(const std::string& actual_path, const std::string& expected_path) {
  const io::TensorFile actual = io::load_safetensors(actual_path);
  const io::TensorFile expected = io::load_safetensors(expected_path);
  EXPECT_EQ(testing::checkpoint_run_state(actual_path), testing::checkpoint_run_state(expected_path));
  ASSERT_EQ(actual.tensors.size(), expected.tensors.size());
  for (size_t i = 0; i < expected.tensors.size(); ++i) {
    const auto& [name, want] = expected.tensors[i];
    ASSERT_TRUE(actual.contains(name)) << name;
    const Tensor& got = actual.at(name);
    ASSERT_EQ(got.dtype(), want.dtype()) << name;
    ASSERT_EQ(got.shape(), want.shape()) << name;
    EXPECT_EQ(std::memcmp(got.raw_data(), want.raw_data(), want.nbytes()), 0) << name << " differs";
  }
}

// log.jsonl records, without wall-clock fields (none today; a timing field must not break the test).
std::vector<nlohmann::json> log_records(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    nlohmann::json record = nlohmann::json::parse(line);
    for (const char* wall : {"time", "seconds", "wall_seconds", "elapsed"}) record.erase(wall);
    out.push_back(record);
  }
  return out;
}

void expect_same_log(const std::string& actual_path, const std::string& expected_path) {
  const auto actual = log_records(actual_path), expected = log_records(expected_path);
  ASSERT_FALSE(expected.empty());
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(actual[i], expected[i]) << "record " << i;
}

// Files of an interrupted atomic write (`<name>.tmp.<pid>`) the process with this pid left behind.
std::vector<std::string> temp_files_of(const std::string& folder, pid_t pid) {
  std::vector<std::string> out;
  const std::string suffix = ".tmp." + std::to_string(pid);
  for (const auto& e : fs::directory_iterator(folder)) {
    const std::string name = e.path().filename().string();
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(name);
  }
  return out;
}

TEST(TrainInterrupts, SigkillAtRandomPointsThenResumingIsBitIdentical) {
  TempFolder tmp("kill");
  fs::create_directories(tmp.path());
  constexpr int64_t kSteps = 240;
  const std::string reference = tmp.sub("reference"), run = tmp.sub("run");
  train_to_completion(train_args(reference, kSteps, 1), tmp.sub("reference.out"));

  // Each kill waits a seeded random delay after the start, then either kills at once or waits for an
  // atomic write to be in flight (a temp file present) and kills right then. With a checkpoint every
  // step, writes take most of the time, so many kills land inside one.
  std::mt19937 rng(20261201);
  std::uniform_int_distribution<int> delay_ms(0, 300);
  std::bernoulli_distribution kill_inside_a_write(0.7);
  constexpr int kKills = 6;
  int kills = 0, kills_inside_a_write = 0;
  std::vector<std::string> kill_log;
  for (int k = 0; k < kKills; ++k) {
    const auto args = k == 0 ? train_args(run, kSteps, 1) : with_resume(train_args(run, kSteps, 1));
    GantryProcess p(args, tmp.sub("run.out." + std::to_string(k)));
    // The first kill comes after the first checkpoint, so there is always one to resume from.
    if (k == 0) {
      ASSERT_TRUE(testing::wait_until([&] { return fs::exists(run + "/checkpoint.safetensors") || !p.running(); },
                                      Millis(30000)));
    }
    std::this_thread::sleep_for(Millis(delay_ms(rng)));
    if (kill_inside_a_write(rng))
      testing::wait_until([&] { return !temp_files_of(run, p.pid()).empty() || !p.running(); }, Millis(5000));
    p.signal(SIGKILL);
    const auto status = p.wait_for(Millis(30000));
    ASSERT_TRUE(status.has_value());
    if (!WIFSIGNALED(*status)) {  // it finished before the kill
      ASSERT_EQ(WEXITSTATUS(*status), 0) << p.output();
      break;
    }
    ASSERT_EQ(WTERMSIG(*status), SIGKILL);
    ++kills;
    const auto leftovers = temp_files_of(run, p.pid());
    if (!leftovers.empty()) ++kills_inside_a_write;
    kill_log.push_back("kill " + std::to_string(k) + " at step " +
                       std::to_string(train::last_logged_step(run + "/log.jsonl")) +
                       (leftovers.empty() ? "" : ", inside the write of " + leftovers.front()));
  }
  std::string history;
  for (const auto& line : kill_log) history += line + "\n";
  std::printf("%s", history.c_str());  // where the kills landed, for the record
  SCOPED_TRACE(history);
  ASSERT_GE(kills, 4) << "the run finished before it could be killed often enough; make it longer";
  // Demanded, so the test really covers a kill during a checkpoint (or config/log) write.
  ASSERT_GE(kills_inside_a_write, 1);

  train_to_completion(with_resume(train_args(run, kSteps, 1)), tmp.sub("run.out.final"));
  expect_same_checkpoint(run + "/checkpoint.safetensors", reference + "/checkpoint.safetensors");
  expect_same_log(run + "/log.jsonl", reference + "/log.jsonl");
  EXPECT_EQ(testing::read_json_file(run + "/metrics.json").at("final"),
            testing::read_json_file(reference + "/metrics.json").at("final"));
}

// SIGINT and SIGTERM stop `mog train` gracefully: the current step finishes, a checkpoint is written
// (the run checkpoints only at the end otherwise), it exits 128 + signal saying how to resume, and the
// resumed run is bit-identical to an uninterrupted one.
class TrainSignals : public ::testing::TestWithParam<int> {};

TEST_P(TrainSignals, StopWithACheckpointAndResumeBitIdentically) {
  const int sig = GetParam();
  TempFolder tmp(std::string("stop_") + sigabbrev_np(sig));
  fs::create_directories(tmp.path());
  constexpr int64_t kSteps = 1500;
  const std::string reference = tmp.sub("reference"), run = tmp.sub("run");
  train_to_completion(train_args(reference, kSteps, 0), tmp.sub("reference.out"));

  GantryProcess p(train_args(run, kSteps, 0), tmp.sub("run.out"));
  ASSERT_TRUE(testing::wait_until([&] { return train::last_logged_step(run + "/log.jsonl") >= 20 || !p.running(); },
                                  Millis(30000)));
  p.signal(sig);
  const auto status = p.wait_for(Millis(30000));
  ASSERT_TRUE(status.has_value());
  const std::string out = p.output();
  ASSERT_TRUE(WIFEXITED(*status)) << "killed by signal " << WTERMSIG(*status) << "\n" << out;
  EXPECT_EQ(WEXITSTATUS(*status), 128 + sig) << out;
  EXPECT_NE(out.find(std::string("stopped by ") + "SIG" + sigabbrev_np(sig) + " at step "), std::string::npos) << out;
  EXPECT_NE(out.find("To resume, run:"), std::string::npos) << out;
  EXPECT_NE(out.find("--resume"), std::string::npos) << out;
  ASSERT_TRUE(fs::exists(run + "/checkpoint.safetensors")) << "no checkpoint written on " << sigabbrev_np(sig);
  const int64_t stopped_at = testing::checkpoint_run_state(run + "/checkpoint.safetensors").at("step");
  EXPECT_GE(stopped_at, 20);
  EXPECT_LT(stopped_at, kSteps) << "the run finished before the signal; make it longer";
  EXPECT_EQ(train::last_logged_step(run + "/log.jsonl"), stopped_at) << "the step in progress did not finish";
  EXPECT_FALSE(fs::exists(run + "/metrics.json")) << "a stopped run has no final evaluation";

  train_to_completion(with_resume(train_args(run, kSteps, 0)), tmp.sub("run.out.resumed"));
  expect_same_checkpoint(run + "/checkpoint.safetensors", reference + "/checkpoint.safetensors");
  expect_same_log(run + "/log.jsonl", reference + "/log.jsonl");
}

INSTANTIATE_TEST_SUITE_P(Signals, TrainSignals, ::testing::Values(SIGINT, SIGTERM),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(sigabbrev_np(info.param));
                         });

// A second signal while the run is stopping ends it at once (default action) instead of waiting.
TEST(TrainSignals, ASecondSignalWhileStoppingKillsAtOnce) {
  TempFolder tmp("second_signal");
  fs::create_directories(tmp.path());
  const std::string run = tmp.sub("run");
  GantryProcess p(train_args(run, 100000, 0), tmp.sub("run.out"));
  ASSERT_TRUE(testing::wait_until([&] { return train::last_logged_step(run + "/log.jsonl") >= 5 || !p.running(); },
                                  Millis(30000)));
  // Two different signals, so the second cannot merge with the first while it is pending.
  p.signal(SIGINT);
  p.signal(SIGTERM);
  const auto status = p.wait_for(Millis(30000));
  ASSERT_TRUE(status.has_value());
  ASSERT_TRUE(WIFSIGNALED(*status)) << "exited with " << WEXITSTATUS(*status) << "\n" << p.output();
  EXPECT_TRUE(WTERMSIG(*status) == SIGINT || WTERMSIG(*status) == SIGTERM) << WTERMSIG(*status);
}

}  // namespace
}  // namespace gantry
