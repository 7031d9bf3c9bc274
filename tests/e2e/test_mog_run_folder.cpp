// A MoG run folder is never lost or mislabelled: a folder holding a run is refused without
// --resume/--restart, a resume matches the recorded run and never shortens it, the checkpoint
// identifies its run on its own (config.json is cross-checked against it), the folder is locked while
// a run trains, stale temporaries of interrupted writes are cleared, and corrupt checkpoints are
// refused. Every refusal leaves the folder's files exactly as they were.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "tests/support/error_matchers.h"
#include "tests/support/tensor_file_edit.h"
#include "train/folder_lock.h"
#include "train/mog/mog_experiment.h"
#include "train/mog/mog_run_loading.h"

namespace gantry {
namespace {

namespace fs = std::filesystem;

class RunFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::temp_directory_path() /
             ("gantry_e2e_folder_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
              "_" + std::to_string(::getpid())))
                .string();
    fs::remove_all(root_);
    config_.modes = 9;
    config_.steps = 20;
    config_.batch = 16;
    config_.lr = 5e-4;
    config_.eval_samples = 200;
    config_.checkpoint_every = 10;
    config_.out = (fs::path(root_) / "run").string();
    quiet_.write_samples_png = false;
    quiet_.messages = nullptr;
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string file(const std::string& name) const { return (fs::path(config_.out) / name).string(); }
  mog::MogRunOptions resume() const {
    mog::MogRunOptions o = quiet_;
    o.resume = true;
    return o;
  }
  // Every file of the run folder (hidden ones too) with its contents.
  std::map<std::string, std::string> snapshot() const {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(config_.out))
      if (e.is_regular_file()) files[e.path().string()] = io::read_file(e.path().string());
    return files;
  }
  // `run` must throw an error naming all `fragments` and leave every file as it was.
  template <typename Fn>
  void expect_refused(Fn&& run, const std::vector<std::string>& fragments) const {
    const auto before = snapshot();
    EXPECT_TRUE(testing::throws_error_mentioning(run, fragments));
    EXPECT_EQ(snapshot(), before) << "a refused run changed the folder";
  }

  std::string root_;
  mog::MogTrainConfig config_;
  mog::MogRunOptions quiet_;
};

TEST_F(RunFolderTest, AFolderHoldingARunIsRefusedWithoutResumeOrRestart) {
  mog::run_mog_training(config_, quiet_);
  expect_refused([&] { mog::run_mog_training(config_, quiet_); },
                 {config_.out, "already holds a run", "--resume", "--restart"});
  mog::MogTrainConfig other = config_;
  other.modes = 25;
  other.steps = 5;
  expect_refused([&] { mog::run_mog_training(other, quiet_); }, {config_.out, "already holds a run"});
}

TEST_F(RunFolderTest, AFolderWithOnlyUnrelatedFilesIsUsed) {
  fs::create_directories(config_.out);
  std::ofstream(file("notes.txt")) << "mine";
  EXPECT_EQ(mog::run_mog_training(config_, quiet_).steps_done, 20);
  EXPECT_EQ(io::read_file(file("notes.txt")), "mine");
}

TEST_F(RunFolderTest, RestartDiscardsTheEarlierRun) {
  mog::MogRunOptions with_picture = quiet_;
  with_picture.write_samples_png = true;
  mog::run_mog_training(config_, with_picture);
  mog::MogRunOptions restart = quiet_;  // writes no samples.png: the earlier one must not stay behind
  restart.restart = true;
  config_.steps = 5;
  config_.checkpoint_every = 0;
  const auto r = mog::run_mog_training(config_, restart);
  EXPECT_EQ(r.steps_done, 5);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes.back().find("--restart: discarded the earlier run"), std::string::npos) << r.notes.back();
  EXPECT_EQ(mog::load_mog_run(config_.out, "--run").step, 5);
  EXPECT_FALSE(fs::exists(file(mog::kSamplesFile)));
}

TEST_F(RunFolderTest, ResumeNeverShortensARun) {
  mog::run_mog_training(config_, quiet_);
  config_.steps = 10;
  expect_refused([&] { mog::run_mog_training(config_, resume()); },
                 {"--steps 10 is below step 20", file(mog::kCheckpointFile)});
}

TEST_F(RunFolderTest, ResumeAtTheCheckpointStepOnlyReevaluates) {
  mog::run_mog_training(config_, quiet_);
  const std::string checkpoint = io::read_file(file(mog::kCheckpointFile));
  const auto metrics_before = nlohmann::json::parse(io::read_file(file(mog::kMetricsFile)));
  config_.log_every = 5;  // a new cadence changes config.json, not the checkpoint
  const auto r = mog::run_mog_training(config_, resume());
  EXPECT_EQ(r.steps_done, 20);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes.back().find("nothing to train"), std::string::npos) << r.notes.back();
  EXPECT_EQ(io::read_file(file(mog::kCheckpointFile)), checkpoint);
  const auto metrics = nlohmann::json::parse(io::read_file(file(mog::kMetricsFile)));
  EXPECT_EQ(metrics.at("final"), metrics_before.at("final"));
  EXPECT_EQ(metrics.at("train_seconds"), metrics_before.at("train_seconds"));  // the training's timing stays
  EXPECT_TRUE(metrics.at("finished").get<bool>());
}

TEST_F(RunFolderTest, TheCheckpointAloneIdentifiesItsRun) {
  mog::run_mog_training(config_, quiet_);
  fs::remove(file(mog::kConfigFile));
  const mog::LoadedMogRun loaded = mog::load_mog_run(config_.out, "--run");
  EXPECT_EQ(loaded.config.modes, 9);
  EXPECT_EQ(loaded.config.lr, 5e-4);
  ASSERT_EQ(loaded.notes.size(), 1u);
  EXPECT_NE(loaded.notes[0].find("using the configuration embedded in the checkpoint"), std::string::npos);
  // Resuming with another mode count is refused naming the option and both values ...
  mog::MogTrainConfig other = config_;
  other.modes = 64;
  other.steps = 30;
  expect_refused([&] { mog::run_mog_training(other, resume()); },
                 {"--modes is 64", "trained with modes = 9", "embedded configuration"});
  // ... and resuming the recorded run writes its config.json back.
  config_.steps = 30;
  EXPECT_EQ(mog::run_mog_training(config_, resume()).steps_done, 30);
  EXPECT_EQ(mog::MogTrainConfig::from_json(nlohmann::json::parse(io::read_file(file(mog::kConfigFile)))).modes, 9);
}

TEST_F(RunFolderTest, AnEditedConfigJsonIsRefusedNamingBothFilesAndTheSetting) {
  mog::run_mog_training(config_, quiet_);
  auto edited = nlohmann::json::parse(io::read_file(file(mog::kConfigFile)));
  edited["modes"] = 64;
  io::write_file_atomic(file(mog::kConfigFile), edited.dump(2));
  EXPECT_TRUE(testing::throws_error_mentioning(
      [&] { mog::load_mog_run(config_.out, "--run"); },
      {file(mog::kConfigFile), "says modes = 64", file(mog::kCheckpointFile), "trained with modes = 9"}));
  edited["modes"] = 9;
  edited["steps"] = 10;  // fewer steps than the checkpoint holds
  io::write_file_atomic(file(mog::kConfigFile), edited.dump(2));
  EXPECT_TRUE(testing::throws_error_mentioning([&] { mog::load_mog_run(config_.out, "--run"); },
                                               {"describes a run of 10 steps", "is at step 20"}));
}

TEST_F(RunFolderTest, OlderCheckpointsFallBackToConfigJson) {
  mog::run_mog_training(config_, quiet_);
  testing::make_old_style_checkpoint(file(mog::kCheckpointFile));
  const mog::LoadedMogRun loaded = mog::load_mog_run(config_.out, "--run");
  EXPECT_EQ(loaded.config.modes, 9);
  EXPECT_EQ(loaded.step, 20);
  ASSERT_EQ(loaded.notes.size(), 1u);
  EXPECT_NE(loaded.notes[0].find("predates embedded run configurations and tensor checksums"), std::string::npos);
  fs::remove(file(mog::kConfigFile));
  EXPECT_TRUE(testing::throws_error_mentioning([&] { mog::load_mog_run(config_.out, "--run"); },
                                               {file(mog::kCheckpointFile), "older gantry", "no config.json"}));
}

TEST_F(RunFolderTest, ALockedFolderIsRefusedWithTheOwnersPidAndStillReadable) {
  mog::run_mog_training(config_, quiet_);
  const train::FolderLock held(config_.out);
  config_.steps = 30;
  expect_refused([&] { mog::run_mog_training(config_, resume()); },
                 {config_.out, "in use by another gantry process (pid " + std::to_string(::getpid()) + ")"});
  expect_refused([&] { mog::run_mog_training(config_, quiet_); }, {"in use by another gantry process"});
  EXPECT_EQ(mog::load_mog_run(config_.out, "--run").step, 20);  // evaluation does not need the lock
}

TEST_F(RunFolderTest, AResumeRemovesTheTemporariesOfWritersThatWereKilled) {
  mog::run_mog_training(config_, quiet_);
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  const std::string stale = std::string(mog::kCheckpointFile) + ".tmp." + std::to_string(child);
  fs::copy_file(file(mog::kCheckpointFile), file(stale));  // a full-size checkpoint that never got renamed
  config_.steps = 30;
  const auto r = mog::run_mog_training(config_, resume());
  EXPECT_FALSE(fs::exists(file(stale)));
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes[0].find("removed 1 stale temporary file(s)"), std::string::npos) << r.notes[0];
  EXPECT_NE(r.notes[0].find(stale), std::string::npos) << r.notes[0];
}

TEST_F(RunFolderTest, ANonFiniteCheckpointIsNeverResumedOrEvaluated) {
  mog::run_mog_training(config_, quiet_);
  // As a checkpoint of a diverged run would hold it: NaN weights with matching checksums.
  testing::make_old_style_checkpoint(file(mog::kCheckpointFile));
  testing::edit_tensor_file(file(mog::kCheckpointFile),
                            [](io::TensorFile& f) { testing::plant_nan(f, "generator.4.weight"); });
  config_.steps = 30;
  expect_refused([&] { mog::run_mog_training(config_, resume()); },
                 {file(mog::kCheckpointFile), "tensor 'generator.4.weight' holds NaN"});
  EXPECT_TRUE(testing::throws_error_mentioning([&] { mog::load_mog_run(config_.out, "--run"); },
                                               {"tensor 'generator.4.weight' holds NaN"}));
}

}  // namespace
}  // namespace gantry
