// Small-GAN's data core-sets in image runs end to end on a tiny image folder: the Table-6 ablations
// train and are recorded, a run with prior and data core-sets resumes bit-identically, the embedding
// cache is built once and reused, rebuilt when the dataset changes, and a damaged cache refuses the run
// before its folder is created.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"
#include "tests/support/dataset_requirement.h"
#include "tests/support/image_files.h"
#include "tests/support/temp_folder.h"
#include "tests/support/tiny_image_run.h"
#include "train/data/image_dataset.h"
#include "train/image/image_experiment.h"

namespace gantry {
namespace {

namespace fs = std::filesystem;
using testing::TempFolder;

constexpr int kSide = 16;

image::ImageTrainConfig tiny_coreset_run(const std::string& images, const std::string& out,
                                         const std::string& model = "dcgan", int64_t side = kSide) {
  image::ImageTrainConfig c = testing::tiny_image_run(images, out, 6, model, side);
  c.checkpoint_every = 3;
  c.log_every = 1;
  c.coreset_prior = c.coreset_data = true;
  c.fz = 4;
  c.fx = 8;
  return c;
}

image::ImageRunOptions quiet_options(const TempFolder& tmp) {
  image::ImageRunOptions o;
  o.messages = nullptr;
  o.embedding_cache = tmp.sub("embeddings");
  return o;
}

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(std::ifstream(path)); }

std::vector<double> train_losses(const image::ImageTrainConfig& c, image::ImageRunOptions o) {
  std::vector<double> losses;
  o.on_step = [&](const train::GanStepStats& s) {
    losses.push_back(s.critic_loss);
    losses.push_back(s.generator_loss);
  };
  image::run_image_training(c, o);
  return losses;
}

TEST(ImageCoresets, EveryTable6AblationTrainsAndIsRecordedInTheRunFolder) {
  TempFolder tmp("image_coreset_ablations");
  const std::string images = tmp.sub("images");
  testing::write_patterned_png_folder(images, 40, kSide);
  struct Ablation {
    const char* name;
    bool prior, data;
    int64_t dim;
    const char* method;
  };
  const std::vector<Ablation> ablations = {{"A", false, false, 32, "baseline"},
                                           {"B", true, true, 0, "core-set"},
                                           {"D", true, false, 32, "core-set (prior)"},
                                           {"E", false, true, 32, "core-set (data)"},
                                           {"full", true, true, 32, "core-set"}};
  std::vector<std::vector<double>> losses;
  for (const Ablation& a : ablations) {
    image::ImageTrainConfig c = tiny_coreset_run(images, tmp.sub(a.name));
    c.coreset_prior = a.prior;
    c.coreset_data = a.data;
    c.coreset_dim = a.dim;
    c.steps = 3;
    losses.push_back(train_losses(c, quiet_options(tmp)));
    const nlohmann::json config = read_json(tmp.sub(std::string(a.name) + "/config.json"));
    const nlohmann::json metrics = read_json(tmp.sub(std::string(a.name) + "/metrics.json"));
    EXPECT_EQ(config.at("method"), a.method) << a.name;
    EXPECT_EQ(config.at("coreset_prior"), a.prior) << a.name;
    EXPECT_EQ(config.at("coreset_data"), a.data) << a.name;
    if (a.data) {
      EXPECT_EQ(config.at("coreset_dim"), a.dim) << a.name;
      EXPECT_EQ(config.at("coreset_embedding"), "pixels") << a.name;
      EXPECT_EQ(metrics.at("coreset_data").at("dim"), a.dim) << a.name;
      // B reads the pixels per pool; the projected runs read the cache, which E built and the full run reused.
      if (a.dim == 0) {
        EXPECT_TRUE(metrics.at("coreset_data").at("cache").is_null()) << a.name;
      } else {
        EXPECT_EQ(metrics.at("coreset_data").at("cache").at("source"), std::string(a.name) == "E" ? "built" : "loaded");
        EXPECT_TRUE(fs::exists(metrics.at("coreset_data").at("cache").at("file").get<std::string>()));
      }
    } else {
      EXPECT_FALSE(config.contains("coreset_dim")) << a.name;
      EXPECT_TRUE(metrics.at("coreset_data").is_null()) << a.name;
    }
  }
  for (size_t i = 1; i < losses.size(); ++i) EXPECT_NE(losses[i], losses[0]) << ablations[i].name << " trained as A";
}

TEST(ImageCoresets, ARunWithPriorAndDataCoresetsResumesBitIdentically) {
  TempFolder tmp("image_coreset_resume");
  const std::string images = tmp.sub("images");
  testing::write_patterned_png_folder(images, 40, kSide);
  image::ImageTrainConfig c = tiny_coreset_run(images, tmp.sub("straight"));
  c.random_flip = true;
  const std::vector<double> straight = train_losses(c, quiet_options(tmp));
  c.out = tmp.sub("interrupted");
  image::ImageRunOptions first = quiet_options(tmp);
  first.stop_after = 4;
  const std::vector<double> head = train_losses(c, first);
  image::ImageRunOptions resume = quiet_options(tmp);
  resume.resume = true;
  const std::vector<double> tail = train_losses(c, resume);
  std::vector<double> joined = head;
  joined.insert(joined.end(), tail.begin(), tail.end());
  EXPECT_EQ(joined, straight);
  // The tensors (the metadata names each run's own folder).
  const io::TensorFile a = io::load_safetensors(tmp.sub("straight/checkpoint.safetensors"));
  const io::TensorFile b = io::load_safetensors(tmp.sub("interrupted/checkpoint.safetensors"));
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const Tensor &p = a.tensors[i].second, &q = b.tensors[i].second;
    ASSERT_EQ(p.nbytes(), q.nbytes()) << a.tensors[i].first;
    EXPECT_EQ(0, std::memcmp(p.raw_data(), q.raw_data(), p.nbytes())) << a.tensors[i].first;
  }
}

TEST(ImageCoresets, AChangedImageFolderRebuildsItsEmbeddingCache) {
  TempFolder tmp("image_coreset_stale");
  const std::string images = tmp.sub("images");
  testing::write_patterned_png_folder(images, 30, kSide);
  image::ImageTrainConfig c = tiny_coreset_run(images, tmp.sub("first"));
  c.steps = 1;
  image::run_image_training(c, quiet_options(tmp));
  // One more image: the folder's digest changes, its name does not.
  fs::copy_file(images + "/img0.png", images + "/img_extra.png");
  c.out = tmp.sub("second");
  image::run_image_training(c, quiet_options(tmp));
  const nlohmann::json cache = read_json(tmp.sub("second/metrics.json")).at("coreset_data").at("cache");
  EXPECT_EQ(cache.at("source"), "rebuilt (stale)");
  EXPECT_EQ(cache.at("file"), read_json(tmp.sub("first/metrics.json")).at("coreset_data").at("cache").at("file"));
}

TEST(ImageCoresets, ADamagedEmbeddingCacheRefusesTheRunNamingTheFileBeforeItsFolderIsCreated) {
  TempFolder tmp("image_coreset_damaged");
  const std::string images = tmp.sub("images");
  testing::write_patterned_png_folder(images, 30, kSide);
  image::ImageTrainConfig c = tiny_coreset_run(images, tmp.sub("first"));
  c.steps = 1;
  image::run_image_training(c, quiet_options(tmp));
  const std::string file =
      read_json(tmp.sub("first/metrics.json")).at("coreset_data").at("cache").at("file").get<std::string>();
  io::write_file_atomic(file, io::read_file(file).substr(0, 100));
  c.out = tmp.sub("second");
  try {
    image::run_image_training(c, quiet_options(tmp));
    FAIL() << "a truncated embedding cache was used";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("damaged"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(tmp.sub("second")));
}

// Class-conditional data core-sets keep each selected image's label: MNIST from the cache (skipped
// without it, or failed under GANTRY_REQUIRE_DATASETS=1).
TEST(ImageCoresets, AClassConditionalDataCoresetRunTrainsOnMnist) {
  GANTRY_SKIP_WITHOUT_DATASET("mnist:test");
  TempFolder tmp("image_coreset_conditional");
  image::ImageTrainConfig c = tiny_coreset_run("mnist:test", tmp.sub("run"), "sngan", 32);  // SNGAN is 32x32 only
  c.conditional = true;
  c.coreset_prior = false;
  c.steps = 2;
  c.d_steps = 1;
  EXPECT_EQ(train_losses(c, quiet_options(tmp)).size(), 4u);
}

}  // namespace
}  // namespace gantry
