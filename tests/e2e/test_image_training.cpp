// Image-GAN runs end to end on a small image folder the test writes: every model preset trains and
// resumes bit-identically (data order, top-k state, optimiser state, RNG and the loader position all
// carried by the checkpoint), the run folder holds its pictures and rotated checkpoints, and bad
// requests are refused before anything is written.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/io/safetensors.h"
#include "tests/support/dataset_requirement.h"
#include "tests/support/image_files.h"
#include "tests/support/step_trace.h"
#include "tests/support/temp_folder.h"
#include "train/checkpoint.h"
#include "train/checkpoint_rotation.h"
#include "train/data/image_dataset.h"
#include "train/image/image_experiment.h"

namespace gantry {
namespace {

namespace fs = std::filesystem;
using testing::TempFolder;

constexpr int kImages = 48;
constexpr int kSide = 32;

std::string write_image_folder(const TempFolder& tmp) {
  const std::string folder = tmp.sub("images");
  testing::write_patterned_png_folder(folder, kImages, kSide);
  return folder;
}

image::ImageTrainConfig tiny_run(const std::string& model, const std::string& dataset, const std::string& out) {
  image::ImageTrainConfig c = image::ImageTrainConfig::preset(model);
  c.dataset = dataset;
  c.image_size = kSide;
  c.g_width = 8;
  c.d_width = 8;
  c.latent_dim = 8;
  c.batch = 8;
  c.steps = 12;
  c.d_steps = std::min<int64_t>(c.d_steps, 2);
  c.sample_every = 5;
  c.checkpoint_every = 4;
  c.keep_checkpoints = 2;
  c.log_every = 2;
  c.out = out;
  return c;
}

using Recorded = testing::StepTrace;

Recorded train_recording(const image::ImageTrainConfig& c, image::ImageRunOptions options) {
  Recorded r;
  options.messages = nullptr;
  options.on_step = r.recorder();
  image::run_image_training(c, options);
  return r;
}

void expect_identical_checkpoints(const std::string& a, const std::string& b) {
  const io::TensorFile x = io::load_safetensors(a), y = io::load_safetensors(b);
  ASSERT_EQ(x.tensors.size(), y.tensors.size());
  for (size_t i = 0; i < x.tensors.size(); ++i) {
    ASSERT_EQ(x.tensors[i].first, y.tensors[i].first);
    const Tensor& p = x.tensors[i].second;
    const Tensor& q = y.tensors[i].second;
    ASSERT_EQ(p.nbytes(), q.nbytes()) << x.tensors[i].first;
    EXPECT_EQ(0, std::memcmp(p.raw_data(), q.raw_data(), p.nbytes())) << x.tensors[i].first << " differs";
  }
}

class ImageTrainingByModel : public ::testing::TestWithParam<std::string> {};

TEST_P(ImageTrainingByModel, ResumeIsBitIdenticalToAnUninterruptedRun) {
  TempFolder tmp("image_resume_" + GetParam());
  const std::string images = write_image_folder(tmp);
  image::ImageTrainConfig c = tiny_run(GetParam(), images, tmp.sub("straight"));
  c.selection = train::BatchSelection::top_k;  // k decays every 3 steps: across the interruption
  c.decay_every = 3;
  c.gamma = 0.8;
  c.random_flip = true;
  c.ema_decay = 0.9;  // the EMA's shadow weights are part of the state
  c.ema_start = 3;
  const Recorded straight = train_recording(c, {});

  c.out = tmp.sub("interrupted");
  image::ImageRunOptions first;
  first.stop_after = 7;  // not a multiple of checkpoint_every: the final checkpoint is at 7
  const Recorded head = train_recording(c, first);
  ASSERT_EQ(head.critic.size(), 7u);
  image::ImageRunOptions resume;
  resume.resume = true;
  const Recorded tail = train_recording(c, resume);
  ASSERT_EQ(tail.critic.size(), 5u);
  for (size_t i = 0; i < 12; ++i) {
    const Recorded& part = i < 7 ? head : tail;
    const size_t j = i < 7 ? i : i - 7;
    EXPECT_EQ(straight.critic[i], part.critic[j]) << "critic loss of step " << i + 1;
    EXPECT_EQ(straight.generator[i], part.generator[j]) << "generator loss of step " << i + 1;
    EXPECT_EQ(straight.k[i], part.k[j]) << "k of step " << i + 1;
  }
  expect_identical_checkpoints(tmp.sub("straight/checkpoint.safetensors"),
                               tmp.sub("interrupted/checkpoint.safetensors"));
}

INSTANTIATE_TEST_SUITE_P(Presets, ImageTrainingByModel,
                         ::testing::Values("dcgan", "msgan", "wgan-gc", "wgan-gp", "sngan", "sagan"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// Class-conditional runs need a labelled dataset: MNIST from the cache (the test command fetches it;
// without it this skips, or fails under GANTRY_REQUIRE_DATASETS=1).
TEST(ImageTraining, AClassConditionalRunOnMnistResumesBitIdentically) {
  GANTRY_SKIP_WITHOUT_DATASET("mnist:test");
  TempFolder tmp("image_conditional");
  for (const char* model : {"sngan", "sagan"}) {
    image::ImageTrainConfig c = tiny_run(model, "mnist:test", tmp.sub(std::string(model) + "_straight"));
    c.conditional = true;
    c.steps = 6;
    const Recorded straight = train_recording(c, {});
    c.out = tmp.sub(std::string(model) + "_interrupted");
    image::ImageRunOptions first;
    first.stop_after = 3;
    const Recorded head = train_recording(c, first);
    image::ImageRunOptions resume;
    resume.resume = true;
    const Recorded tail = train_recording(c, resume);
    ASSERT_EQ(head.critic.size() + tail.critic.size(), 6u) << model;
    for (size_t i = 0; i < 6; ++i)
      EXPECT_EQ(straight.generator[i], i < 3 ? head.generator[i] : tail.generator[i - 3]) << model << " step " << i + 1;
    expect_identical_checkpoints(tmp.sub(std::string(model) + "_straight/checkpoint.safetensors"),
                                 tmp.sub(std::string(model) + "_interrupted/checkpoint.safetensors"));
  }
}

TEST(ImageTraining, ADivergingRunStopsNamingTheStepAndNetworkAndWritesNoDivergedCheckpoint) {
  TempFolder tmp("image_diverges");
  image::ImageTrainConfig c = tiny_run("wgan-gp", write_image_folder(tmp), tmp.sub("run"));
  c.g_lr = c.d_lr = 1e30;  // the critic's second update of step 1 already sees overflowed weights
  c.checkpoint_every = 1;
  image::ImageRunOptions options;
  options.messages = nullptr;
  try {
    image::run_image_training(c, options);
    FAIL() << "a run at learning rate 1e30 did not diverge";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("the critic loss is"), std::string::npos) << what;
    EXPECT_NE(what.find("at step 1 "), std::string::npos) << what;
    EXPECT_NE(what.find("Nothing was updated"), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(tmp.sub("run/checkpoint.safetensors")));  // no diverged state was saved
  EXPECT_TRUE(fs::exists(tmp.sub("run/config.json")));
}

TEST(ImageTraining, TheRunFolderHoldsSampleGridsLossCurvesAndTheNewestCheckpoints) {
  TempFolder tmp("image_folder_files");
  image::ImageTrainConfig c = tiny_run("dcgan", write_image_folder(tmp), tmp.sub("run"));
  c.ema_decay = 0.99;
  train_recording(c, {});
  for (const char* name : {"config.json", "log.jsonl", "metrics.json", "samples.png", "samples_ema.png", "losses.png",
                           "checkpoint.safetensors", "samples/step_0000005.png", "samples/step_0000010.png",
                           "samples/step_0000012.png", "samples/ema_step_0000012.png"})
    EXPECT_TRUE(fs::exists(tmp.sub(std::string("run/") + name))) << name;
  // Checkpoints at 4, 8 and 12: the newest two are kept.
  EXPECT_EQ(train::step_checkpoints_in(tmp.sub("run/checkpoints")),
            (std::vector<std::string>{"step_0000008.safetensors", "step_0000012.safetensors"}));
}

TEST(ImageTraining, AConditionalRunOnAnUnlabelledFolderIsRefusedBeforeAnythingIsWritten) {
  TempFolder tmp("image_conditional_refused");
  image::ImageTrainConfig c = tiny_run("sngan", write_image_folder(tmp), tmp.sub("run"));
  c.conditional = true;
  try {
    image::run_image_training(c, {});
    FAIL() << "a conditional run on an unlabelled folder was not refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--conditional"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no class labels"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(tmp.sub("run")));
}

TEST(ImageTraining, ResumingWithAnotherModelIsRefusedNamingTheSetting) {
  TempFolder tmp("image_resume_other_model");
  const std::string images = write_image_folder(tmp);
  image::ImageTrainConfig c = tiny_run("dcgan", images, tmp.sub("run"));
  train_recording(c, {});
  image::ImageTrainConfig other = tiny_run("msgan", images, tmp.sub("run"));
  other.steps = 20;
  image::ImageRunOptions resume;
  resume.resume = true;
  resume.messages = nullptr;
  try {
    image::run_image_training(other, resume);
    FAIL() << "resuming a dcgan run as msgan was not refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("was trained with model"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gantry
