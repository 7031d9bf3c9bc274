// End-to-end mixture-of-Gaussians training: it must learn, be deterministic per seed, resume from a
// checkpoint bit-identically, and read back from its folder for re-evaluation.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/core/device.h"
#include "engine/core/error.h"
#include "engine/io/npz.h"
#include "eval/mog_metrics.h"
#include "tests/support/error_matchers.h"
#include "tests/support/temp_folder.h"
#include "tests/support/test_util.h"
#include "train/mog/mog_evaluation.h"
#include "train/mog/mog_experiment.h"
#include "train/mog/mog_run_loading.h"

namespace gantry {
namespace {

namespace fs = std::filesystem;

using testing::TempFolder;

struct StepRecord {
  int64_t step, k;
  double d_loss, g_loss;
  bool operator==(const StepRecord& o) const {
    return step == o.step && k == o.k && d_loss == o.d_loss && g_loss == o.g_loss;
  }
};

std::vector<StepRecord> train_recording(const mog::MogTrainConfig& c, mog::MogRunOptions options,
                                        mog::MogRunResult* result = nullptr) {
  std::vector<StepRecord> steps;
  options.on_step = [&](const train::GanStepStats& s) {
    steps.push_back({s.step, s.k, s.critic_loss, s.generator_loss});
  };
  const auto r = mog::run_mog_training(c, options);
  if (result) *result = r;
  return steps;
}

TEST(MogTraining, SameSeedGivesIdenticalRuns) {
  TempFolder tmp("determinism");
  mog::MogTrainConfig c;
  c.steps = 150;
  c.batch = 64;
  c.selection = mog::BatchSelection::top_k;
  c.decay_every = 10;
  c.coreset_prior = true;
  c.coreset_data = true;
  c.checkpoint_every = 0;
  c.eval_samples = 2000;
  mog::MogRunOptions quiet;
  quiet.write_samples_png = false;
  mog::MogRunResult ra, rb, rc;
  c.out = tmp.sub("a");
  const auto a = train_recording(c, quiet, &ra);
  c.out = tmp.sub("b");
  const auto b = train_recording(c, quiet, &rb);
  c.seed = 1;
  c.out = tmp.sub("c");
  const auto other = train_recording(c, quiet, &rc);
  ASSERT_EQ(a.size(), 150u);
  EXPECT_TRUE(a == b);
  EXPECT_EQ(ra.metrics.to_json(), rb.metrics.to_json());
  EXPECT_FALSE(a == other);
}

TEST(MogTraining, ResumeIsBitIdentical) {
  TempFolder tmp("resume");
  mog::MogTrainConfig c;
  c.steps = 240;
  c.batch = 64;
  c.selection = mog::BatchSelection::top_k;
  c.gamma = 0.9;
  c.decay_every = 20;  // k changes across the interruption point
  c.coreset_prior = true;
  c.coreset_data = true;
  c.anneal = true;
  c.log_every = 10;
  c.checkpoint_every = 50;
  c.eval_every = 60;
  c.eval_samples = 2000;
  mog::MogRunOptions quiet;
  quiet.write_samples_png = false;

  c.out = tmp.sub("straight");
  mog::MogRunResult straight_result;
  const auto straight = train_recording(c, quiet, &straight_result);

  c.out = tmp.sub("interrupted");
  mog::MogRunOptions first = quiet;
  first.stop_after = 130;  // not a multiple of checkpoint_every: the final checkpoint is at 130
  const auto head = train_recording(c, first);
  ASSERT_EQ(head.size(), 130u);
  mog::MogRunOptions resume = quiet;
  resume.resume = true;
  mog::MogRunResult resumed_result;
  const auto tail = train_recording(c, resume, &resumed_result);
  ASSERT_EQ(tail.size(), 110u);
  ASSERT_EQ(tail.front().step, 131);

  std::vector<StepRecord> joined = head;
  joined.insert(joined.end(), tail.begin(), tail.end());
  ASSERT_EQ(joined.size(), straight.size());
  for (size_t i = 0; i < straight.size(); ++i) {
    ASSERT_TRUE(joined[i] == straight[i]) << "step " << straight[i].step << ": d_loss " << joined[i].d_loss
                                          << " vs " << straight[i].d_loss << ", g_loss " << joined[i].g_loss
                                          << " vs " << straight[i].g_loss;
  }
  EXPECT_LT(straight.back().k, 64);  // the schedule did decay
  EXPECT_EQ(resumed_result.metrics.to_json(), straight_result.metrics.to_json());
  // metrics.json keeps the evaluations from before the interruption.
  const auto metrics = nlohmann::json::parse(std::ifstream((fs::path(c.out) / mog::kMetricsFile).string()));
  EXPECT_EQ(metrics.at("history").size(), 3u);  // steps 60, 120 (before) and 180 (after the resume)
  // The log holds each step record once.
  EXPECT_EQ(testing::count_nonempty_lines((fs::path(c.out) / mog::kLogFile).string()),
            testing::count_nonempty_lines((fs::path(tmp.sub("straight")) / mog::kLogFile).string()));
}

// Soft top-k (every fake weighted by score, k from the schedule) resumes bit-identically too: its
// weights depend on the scores alone, its schedule is checkpointed.
TEST(MogTraining, SoftTopKResumesBitIdentically) {
  TempFolder tmp("soft_topk");
  mog::MogTrainConfig c;
  c.steps = 60;
  c.batch = 32;
  c.selection = mog::BatchSelection::soft_top_k;
  c.gamma = 0.8;
  c.decay_every = 10;
  c.checkpoint_every = 0;
  c.eval_samples = 500;
  mog::MogRunOptions quiet;
  quiet.write_samples_png = false;
  c.out = tmp.sub("straight");
  const auto straight = train_recording(c, quiet);
  c.out = tmp.sub("interrupted");
  mog::MogRunOptions first = quiet;
  first.stop_after = 35;
  auto joined = train_recording(c, first);
  mog::MogRunOptions resume = quiet;
  resume.resume = true;
  const auto tail = train_recording(c, resume);
  joined.insert(joined.end(), tail.begin(), tail.end());
  ASSERT_EQ(straight.size(), 60u);
  EXPECT_TRUE(joined == straight);
  EXPECT_EQ(straight.front().k, 32);
  EXPECT_EQ(straight.back().k, 24);  // 32 * 0.8^5 = 10.5 -> nu = 0.75 B = 24
}

TEST(MogTraining, ResumeRefusesAChangedConfig) {
  TempFolder tmp("resume_mismatch");
  mog::MogTrainConfig c;
  c.steps = 5;
  c.batch = 32;
  c.eval_samples = 500;
  c.out = tmp.sub("run");
  mog::MogRunOptions quiet;
  quiet.write_samples_png = false;
  mog::run_mog_training(c, quiet);
  c.steps = 10;
  c.seed = 7;
  mog::MogRunOptions resume = quiet;
  resume.resume = true;
  try {
    mog::run_mog_training(c, resume);
    FAIL() << "resumed with a different seed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("seed"), std::string::npos) << e.what();
  }
}

// A protocol variant (uniform prior with a prior core-set, wider latent, four hidden layers, another
// spacing) trains, records its settings, reloads into the same networks and re-evaluates to the same
// metrics; a resume with another prior is refused naming --prior.
TEST(MogTraining, ProtocolVariantTrainsReloadsAndKeepsItsIdentity) {
  TempFolder tmp("variant");
  mog::MogTrainConfig c;
  c.modes = 9;
  c.steps = 30;
  c.batch = 32;
  c.prior = "uniform";
  c.latent_dim = 3;
  c.hidden_layers = 4;
  c.grid_spacing = 3;
  c.coreset_prior = true;
  c.eval_samples = 800;
  c.out = tmp.sub("run");
  mog::MogRunOptions quiet;
  quiet.write_samples_png = false;
  const mog::MogRunResult trained = mog::run_mog_training(c, quiet);
  const auto config = nlohmann::json::parse(std::ifstream((fs::path(c.out) / mog::kConfigFile).string()));
  EXPECT_EQ(config.at("prior"), "uniform");
  EXPECT_EQ(config.at("latent_dim"), 3);
  EXPECT_EQ(config.at("hidden_layers"), 4);
  EXPECT_EQ(config.at("grid_spacing"), 3.0);
  EXPECT_EQ(trained.metrics.assigned_per_mode.size(), 9u);

  const mog::LoadedMogRun run = mog::load_mog_run(c.out, "--run");
  EXPECT_EQ(run.generator->parameters().size(), 10u);  // 5 Linear layers: 4 hidden + output
  EXPECT_EQ(run.generator->parameters().front().shape(), (Shape{256, 3}));
  const auto again = mog::evaluate_generator(*run.generator, run.config.mixture(), c.eval_samples,
                                             run.config.latent_dim, run.config.latent_prior(), run.config.seed, kCPU);
  EXPECT_EQ(again.metrics.to_json(), trained.metrics.to_json());
  const auto as_normal =
      mog::evaluate_generator(*run.generator, run.config.mixture(), c.eval_samples, run.config.latent_dim,
                              train::LatentPrior::normal, run.config.seed, kCPU);
  EXPECT_NE(as_normal.metrics.to_json(), trained.metrics.to_json());

  c.prior = "normal";
  c.steps = 40;
  mog::MogRunOptions resume = quiet;
  resume.resume = true;
  EXPECT_TRUE(testing::throws_error_mentioning([&] { mog::run_mog_training(c, resume); }, {"--prior", "uniform"}));
}

// A run read back from its folder evaluates, with its own seed, to exactly the metrics its training
// wrote; another eval seed draws other samples.
TEST(MogTraining, ReevaluatingARunReproducesItsFinalMetrics) {
  TempFolder tmp("reeval");
  mog::MogTrainConfig c;
  c.modes = 9;
  c.steps = 120;
  c.batch = 64;
  c.seed = 3;
  c.selection = mog::BatchSelection::top_k;
  c.decay_every = 10;
  c.checkpoint_every = 0;
  c.eval_samples = 1500;
  c.out = tmp.sub("run");
  mog::MogRunOptions quiet;
  quiet.write_samples_png = false;
  const mog::MogRunResult trained = mog::run_mog_training(c, quiet);

  const mog::LoadedMogRun run = mog::load_mog_run(c.out, "--run");
  EXPECT_EQ(run.step, 120);
  EXPECT_EQ(run.config.modes, 9);
  EXPECT_EQ(run.config.method_name(), c.method_name());
  const data::MixtureOfGaussians mixture(run.config.modes);
  const auto same = mog::evaluate_generator(*run.generator, mixture, c.eval_samples, 2, train::LatentPrior::normal,
                                            run.config.seed, kCPU);
  EXPECT_EQ(same.metrics.to_json(), trained.metrics.to_json());
  const auto other = mog::evaluate_generator(*run.generator, mixture, c.eval_samples, 2, train::LatentPrior::normal,
                                             run.config.seed + 1, kCPU);
  EXPECT_EQ(other.metrics.num_samples, 1500);
  // The stored final samples are that evaluation's: they re-score to the same metrics.
  const auto stored = io::load_npz((fs::path(c.out) / mog::kEvalSamplesFile).string());
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].first, "samples");
  EXPECT_EQ(eval::evaluate_mog_samples(stored[0].second, mixture).to_json(), trained.metrics.to_json());
  EXPECT_FALSE(testing::all_close(same.samples, other.samples, 0.0, 0.0));
  // The checkpoint file itself works too, and a config that disagrees with --modes is refused.
  EXPECT_EQ(mog::load_mog_run((fs::path(c.out) / mog::kCheckpointFile).string(), "--run").config.modes, 9);
  EXPECT_TRUE(testing::throws_error_mentioning([&] { mog::load_mog_run(c.out, "--run", 25); },
                                               {"--modes 25", "trained on 9 modes"}));
}

TEST(MogTraining, LoadingARunRefusesMissingAndCorruptFiles) {
  TempFolder tmp("reeval_bad");
  const std::string missing = tmp.sub("nowhere");
  EXPECT_TRUE(testing::throws_error_mentioning([&] { mog::load_mog_run(missing, "--run"); },
                                               {"--run", missing, "does not exist"}));
  const std::string empty = tmp.sub("empty");
  fs::create_directories(empty);
  EXPECT_TRUE(testing::throws_error_mentioning([&] { mog::load_mog_run(empty, "--run"); },
                                               {"--run", "no checkpoint.safetensors"}));
  const std::string truncated = tmp.sub("truncated");
  fs::create_directories(truncated);
  std::ofstream((fs::path(truncated) / mog::kCheckpointFile).string()) << "not a safetensors file";
  EXPECT_TRUE(testing::throws_error_mentioning([&] { mog::load_mog_run(truncated, "--run"); }, {truncated}));
  const std::string bad_config = tmp.sub("bad_config");
  fs::create_directories(bad_config);
  std::ofstream((fs::path(bad_config) / mog::kCheckpointFile).string()) << "x";
  std::ofstream((fs::path(bad_config) / mog::kConfigFile).string()) << "{ not json";
  EXPECT_TRUE(testing::throws_error_mentioning([&] { mog::load_mog_run(bad_config, "--run"); },
                                               {"--run", "config.json", "not a valid run configuration"}));
}

TEST(MogTraining, UnavailableDeviceIsRefusedBeforeTraining) {
  mog::MogTrainConfig c;
  c.out = "unused";
  c.device = "tpu";
  EXPECT_THROW(c.validate(), Error);
  c.device = "cuda:" + std::to_string(cuda_device_count());  // one past the last device
  try {
    c.validate();
    FAIL() << "validate accepted " << c.device;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--device " + c.device), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gantry
