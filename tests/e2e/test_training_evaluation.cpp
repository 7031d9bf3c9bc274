// Evaluation while an image run trains (train/image/training_evaluation.h), on the published per-layer
// weights (FD_mixed_6e: the full FID file is not in the repository): values every --eval-every steps
// and at the end in evals.jsonl and metrics.json, keep-best keeping the best-scoring checkpoint with
// best.json, and an interrupted run resuming to the same values as an uninterrupted one.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/io/atomic_file.h"
#include "tests/support/error_matchers.h"
#include "tests/support/image_files.h"
#include "tests/support/shared_inception_folder.h"
#include "tests/support/temp_folder.h"
#include "tests/support/tiny_image_run.h"
#include "train/image/image_experiment.h"
#include "train/image/image_run_loading.h"

namespace gantry {
namespace {

namespace fs = std::filesystem;
using testing::TempFolder;

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(std::ifstream(path)); }

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> records;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) records.push_back(nlohmann::json::parse(line));
  return records;
}

class TrainingEvaluation : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_INCEPTION_FOLDER();
    fs::create_directories(tmp_.path());
    testing::write_patterned_png_folder(tmp_.sub("pngs"), 8, 16);
  }
  image::ImageTrainConfig run(const std::string& name, int64_t steps = 5) const {
    image::ImageTrainConfig c = testing::tiny_image_run(tmp_.sub("pngs"), tmp_.sub(name), steps);
    c.checkpoint_every = 1;
    c.eval_every = 2;
    c.eval_layer = "mixed_6e";
    c.eval_count = 6;
    c.keep_best = true;
    return c;
  }
  image::ImageRunOptions options() const {
    image::ImageRunOptions o;
    o.messages = nullptr;
    o.eval_weights = testing::shared_inception_dir() + "/folded";
    o.fid_stats_cache = tmp_.sub("stats");
    return o;
  }
  TempFolder tmp_{"training_evaluation"};
};

TEST_F(TrainingEvaluation, ValuesAreLoggedEveryNStepsAndAtTheEndAndTheBestCheckpointIsKept) {
  const image::ImageTrainConfig c = run("straight");
  image::run_image_training(c, options());
  const std::vector<nlohmann::json> evals = read_jsonl(tmp_.sub("straight/evals.jsonl"));
  ASSERT_EQ(evals.size(), 3u);  // steps 2, 4 and the final 5
  EXPECT_EQ(evals[0]["step"], 2);
  EXPECT_EQ(evals[1]["step"], 4);
  EXPECT_EQ(evals[2]["step"], 5);
  double best = 1e300;
  int64_t best_step = -1;
  for (const auto& e : evals) {
    EXPECT_EQ(e["metric"], "FD_mixed_6e");
    EXPECT_GT(e["value"].get<double>(), 0.0);
    if (e["value"].get<double>() < best) best = e["value"].get<double>(), best_step = e["step"].get<int64_t>();
  }
  const nlohmann::json b = read_json(tmp_.sub("straight/best.json"));
  EXPECT_EQ(b["step"], best_step);
  EXPECT_EQ(b["value"].get<double>(), best);
  EXPECT_EQ(b["protocol"]["inception"]["layer"], "mixed_6e");
  EXPECT_EQ(b["protocol"]["reference"]["kind"], "dataset");
  EXPECT_EQ(b["protocol"]["generated"]["count"], 6);
  // The best checkpoint is a checkpoint of that step that gantry reads back.
  const image::LoadedImageRun best_run = image::load_image_run(tmp_.sub("straight/best.safetensors"), "--run");
  EXPECT_EQ(best_run.step, best_step);
  const nlohmann::json m = read_json(tmp_.sub("straight/metrics.json"));
  EXPECT_EQ(m["evaluation"]["metric"], "FD_mixed_6e");
  EXPECT_EQ(m["evaluation"]["is_fid"], false);
  EXPECT_EQ(m["evaluation"]["best"]["step"], best_step);
  EXPECT_EQ(m["evaluation"]["last"]["step"], 5);
}

TEST_F(TrainingEvaluation, AnInterruptedRunResumesToTheSameValues) {
  image::run_image_training(run("straight"), options());
  image::ImageRunOptions o = options();
  o.stop_after = 3;  // interrupted after the evaluation at step 2
  image::run_image_training(run("resumed"), o);
  ASSERT_EQ(read_jsonl(tmp_.sub("resumed/evals.jsonl")).size(), 1u);
  o.stop_after = -1;
  o.resume = true;
  image::run_image_training(run("resumed"), o);
  const auto straight = read_jsonl(tmp_.sub("straight/evals.jsonl"));
  const auto resumed = read_jsonl(tmp_.sub("resumed/evals.jsonl"));
  ASSERT_EQ(resumed.size(), straight.size());
  for (size_t i = 0; i < straight.size(); ++i) {
    EXPECT_EQ(resumed[i]["step"], straight[i]["step"]);
    EXPECT_EQ(resumed[i]["value"], straight[i]["value"]) << "step " << straight[i]["step"];
  }
  EXPECT_EQ(read_json(tmp_.sub("resumed/best.json"))["step"], read_json(tmp_.sub("straight/best.json"))["step"]);
}

TEST_F(TrainingEvaluation, ResumingWithAnotherEvaluationIsRefusedNamingBestJson) {
  image::ImageRunOptions o = options();
  o.stop_after = 3;
  image::run_image_training(run("changed"), o);
  image::ImageTrainConfig c = run("changed");
  c.eval_count = 7;  // another protocol: best.json's value is not comparable
  o.stop_after = -1;
  o.resume = true;
  EXPECT_TRUE(
      testing::throws_error_mentioning([&] { image::run_image_training(c, o); }, {"best.json", "another evaluation"}));
}

}  // namespace
}  // namespace gantry
