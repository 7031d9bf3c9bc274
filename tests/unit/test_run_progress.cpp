// Grid progress read from the runs' JSON-lines logs: the last complete record's step, and the
// progress line's steps, rates and time left.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "train/run_progress.h"

namespace gantry::train {
namespace {

class RunProgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("gantry_progress_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(RunProgressTest, LastLoggedStepIsTheLastCompleteRecordWithAStep) {
  EXPECT_EQ(last_logged_step((dir_ / "missing.jsonl").string()), -1);
  EXPECT_EQ(last_logged_step(write("empty.jsonl", "")), -1);
  EXPECT_EQ(last_logged_step(write("two.jsonl", "{\"step\":100}\n{\"step\":200,\"d_loss\":1.5}\n")), 200);
  // A record still being written (no newline yet) is not read; nor are records without a step.
  EXPECT_EQ(last_logged_step(write("partial.jsonl", "{\"step\":100}\n{\"step\":2")), 100);
  EXPECT_EQ(last_logged_step(write("nostep.jsonl", "{\"step\":300}\n{\"eval\":true}\n")), 300);
}

TEST_F(RunProgressTest, LastLoggedStepReadsOnlyTheTailOfALongLog) {
  std::string text;
  for (int step = 100; step <= 100000; step += 100) text += "{\"d_loss\":1.0166845321655273,\"step\":" + std::to_string(step) + "}\n";
  ASSERT_GT(text.size(), 8192u);
  EXPECT_EQ(last_logged_step(write("long.jsonl", text)), 100000);
}

TEST_F(RunProgressTest, LineShowsStepsRatesAndTimeLeft) {
  GridProgress progress(/*steps_per_run=*/1000, /*runs_to_do=*/3);
  const std::string a = (dir_ / "a.jsonl").string(), b = (dir_ / "b.jsonl").string();
  write("a.jsonl", "{\"step\":100}\n");
  const std::string first = progress.line({{"run_a", a}, {"run_b", b}}, 0);
  EXPECT_NE(first.find("run_a 100/1000;"), std::string::npos) << first;
  EXPECT_NE(first.find("run_b starting;"), std::string::npos) << first;
  EXPECT_NE(first.find("0/3 runs done"), std::string::npos) << first;
  EXPECT_EQ(first.find("left"), std::string::npos) << "no rate is measured yet: " << first;

  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  write("a.jsonl", "{\"step\":100}\n{\"step\":300}\n");
  const std::string second = progress.line({{"run_a", a}, {"run_b", b}}, 0);
  EXPECT_NE(second.find("run_a 300/1000 ("), std::string::npos) << second;
  EXPECT_NE(second.find("/s);"), std::string::npos) << second;
  EXPECT_NE(second.find("left"), std::string::npos) << second;
  // 200 steps in >= 0.2 s is at most 1000 steps/s; 700 + 1000 + 1000 steps remain, so >= 2.7 s left.
  const size_t about = second.find("about ");
  ASSERT_NE(about, std::string::npos) << second;
  const std::string left = second.substr(about + 6, second.find(' ', about + 6) - about - 6);
  EXPECT_NE(left, "00:00") << second;
  EXPECT_NE(left, "00:01") << second;
  EXPECT_NE(left, "00:02") << second;
}

TEST_F(RunProgressTest, AResumedRunThatRewindsRestartsItsRate) {
  GridProgress progress(1000, 1);
  const std::string log = write("r.jsonl", "{\"step\":800}\n");
  progress.line({{"r", log}}, 0);
  write("r.jsonl", "{\"step\":800}\n{\"step\":500}\n");  // resumed from the checkpoint at 500
  const std::string rewound = progress.line({{"r", log}}, 0);
  EXPECT_NE(rewound.find("r 500/1000;"), std::string::npos) << rewound;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  write("r.jsonl", "{\"step\":800}\n{\"step\":500}\n{\"step\":600}\n");
  const std::string later = progress.line({{"r", log}}, 0);
  EXPECT_NE(later.find("r 600/1000 ("), std::string::npos) << later;
}

}  // namespace
}  // namespace gantry::train
