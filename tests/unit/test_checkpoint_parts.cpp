// Checkpoint parts (the further state a kind of run saves beside the networks, e.g. an EMA or the
// data loader's position) round-trip with the checkpoint, and a checkpoint with other parts than the
// run restoring it is refused; step-numbered checkpoint copies keep the newest ones.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/ops/ops.h"
#include "tests/support/small_mog_run.h"
#include "tests/support/temp_folder.h"
#include "train/checkpoint_rotation.h"

namespace gantry {
namespace {

namespace fs = std::filesystem;

class CountingPart final : public train::CheckpointPart {
 public:
  explicit CountingPart(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  std::vector<std::pair<std::string, Tensor>> tensors() const override { return {{"values", values}}; }
  nlohmann::json state() const override { return {{"count", count}}; }
  void load(const std::vector<std::pair<std::string, Tensor>>& tensors, const nlohmann::json& state) override {
    ASSERT_EQ(tensors.size(), 1u);
    EXPECT_EQ(tensors[0].first, "values");
    values = tensors[0].second.clone();
    count = state.at("count").get<int64_t>();
  }
  Tensor values = zeros({3});
  int64_t count = 0;

 private:
  std::string name_;
};

TEST(CheckpointParts, TensorsAndStateOfEveryPartRoundTrip) {
  testing::SmallMogRun saved;
  CountingPart part("loader");
  part.values = from_vector(std::vector<float>{1.5f, -2.0f, 3.25f}, {3});
  part.count = 42;
  saved.state.parts.push_back(&part);
  const io::TensorFile file = saved.checkpoint(9);

  testing::SmallMogRun restored;
  CountingPart into("loader");
  restored.state.parts.push_back(&into);
  EXPECT_EQ(train::restore_checkpoint(file, "mem", restored.state), 9);
  EXPECT_EQ(into.count, 42);
  EXPECT_EQ(into.values.data_ptr<float>()[2], 3.25f);
  const train::CheckpointFile parsed = train::parse_checkpoint(file, "mem");
  EXPECT_EQ(train::checkpoint_part_names(parsed), std::vector<std::string>{"loader"});
  EXPECT_EQ(train::checkpoint_part_state(parsed, "loader").at("count"), 42);
}

TEST(CheckpointParts, ACheckpointWithOtherPartsThanTheRunIsRefused) {
  testing::SmallMogRun saved;
  CountingPart part("loader");
  saved.state.parts.push_back(&part);
  const io::TensorFile file = saved.checkpoint(3);

  testing::SmallMogRun without;  // a run with no parts
  EXPECT_THROW(train::restore_checkpoint(file, "mem", without.state), Error);
  testing::SmallMogRun other;
  CountingPart ema("ema");
  other.state.parts.push_back(&ema);
  try {
    train::restore_checkpoint(file, "mem", other.state);
    FAIL() << "a checkpoint without the 'ema' part was restored";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no 'ema' state"), std::string::npos) << e.what();
  }
  // A reader that does not need a part skips it explicitly.
  testing::SmallMogRun reader;
  train::SkippedCheckpointPart skipped("loader");
  reader.state.parts.push_back(&skipped);
  EXPECT_EQ(train::restore_checkpoint(file, "mem", reader.state), 3);
}

TEST(CheckpointRotation, StepCopiesKeepTheNewestAndSurviveTheLatestBeingReplaced) {
  testing::TempFolder tmp("checkpoint_rotation");
  fs::create_directories(tmp.path());
  const std::string latest = tmp.sub("checkpoint.safetensors");
  const std::string folder = tmp.sub("checkpoints");
  for (int64_t step : {100, 200, 300}) {
    // The latest is replaced by a rename, as atomic writes do.
    std::ofstream(latest + ".new") << "step " << step;
    fs::rename(latest + ".new", latest);
    train::keep_step_checkpoint(latest, folder, step, 2);
  }
  EXPECT_EQ(train::step_checkpoints_in(folder),
            (std::vector<std::string>{"step_0000200.safetensors", "step_0000300.safetensors"}));
  std::ifstream in(folder + "/step_0000200.safetensors");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "step 200");
  train::keep_step_checkpoint(latest, tmp.sub("none"), 400, 0);
  EXPECT_FALSE(fs::exists(tmp.sub("none")));
}

}  // namespace
}  // namespace gantry
