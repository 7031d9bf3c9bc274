// GAN run checkpoints: they carry the run's configuration and identity hash, checksum every tensor,
// and reading refuses corrupted or non-finite tensors (naming the file and the tensor) while older
// checkpoints without those entries still load.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <limits>
#include <memory>

#include "engine/io/atomic_file.h"
#include "engine/io/digest.h"
#include "engine/ops/ops.h"
#include "engine/optim/adam.h"
#include "models/mog_mlp.h"
#include "tests/support/error_matchers.h"
#include "tests/support/tensor_file_edit.h"
#include "train/checkpoint.h"

namespace gantry {
namespace {

namespace fs = std::filesystem;

struct TinyRun {
  explicit TinyRun(uint64_t seed) : rng(seed) {
    g = models::make_relu_mlp(2, 8, 1, 2, rng);
    d = models::make_relu_mlp(2, 8, 1, 1, rng);
    g_opt = std::make_unique<optim::Adam>(g->parameters());
    d_opt = std::make_unique<optim::Adam>(d->parameters());
  }
  train::RunState state() { return {g.get(), d.get(), g_opt.get(), d_opt.get(), &rng, &policy, {}}; }
  Generator rng;
  std::shared_ptr<nn::Sequential> g, d;
  std::unique_ptr<optim::Adam> g_opt, d_opt;
  train::FullBatchPolicy policy;
};

class CheckpointFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() / ("gantry_ckpt_" + std::to_string(::getpid()) + ".safetensors")).string();
    TinyRun run(3);
    train::save_checkpoint(path_, run.state(), 42, identity_);
  }
  void TearDown() override { fs::remove(path_); }
  std::string path_;
  const train::RunIdentity identity_{nlohmann::json{{"modes", 9}, {"lr", 0.0005}}, "0123456789abcdef"};
};

TEST_F(CheckpointFileTest, CarriesTheRunAndChecksumsAndRestoresTheWeights) {
  const train::CheckpointFile file = train::read_checkpoint(path_);
  EXPECT_EQ(file.step, 42);
  ASSERT_TRUE(file.run.has_value());
  EXPECT_EQ(file.run->config, identity_.config);
  EXPECT_EQ(file.run->hash, identity_.hash);
  EXPECT_TRUE(file.has_checksums);
  TinyRun other(99);
  EXPECT_EQ(train::restore_checkpoint(file, other.state()), 42);
  const TinyRun saved(3);
  EXPECT_EQ(to_vector<float>(other.g->parameters()[0]), to_vector<float>(saved.g->parameters()[0]));
}

TEST_F(CheckpointFileTest, AChangedTensorFailsItsChecksumNamingFileAndTensor) {
  testing::edit_tensor_file(path_, [](io::TensorFile& f) { testing::plant_nan(f, "generator.0.weight"); });
  EXPECT_TRUE(testing::throws_error_mentioning([&] { train::read_checkpoint(path_); },
                                               {path_, "tensor 'generator.0.weight' fails its checksum"}));
}

TEST_F(CheckpointFileTest, NonFiniteWeightsAreRefusedEvenWithoutChecksums) {
  testing::make_old_style_checkpoint(path_);
  testing::edit_tensor_file(path_, [](io::TensorFile& f) { testing::plant_nan(f, "critic.2.bias"); });
  EXPECT_TRUE(testing::throws_error_mentioning([&] { train::read_checkpoint(path_); },
                                               {path_, "tensor 'critic.2.bias' holds NaN or infinite values"}));
}

TEST_F(CheckpointFileTest, OlderCheckpointsWithoutRunOrChecksumsStillLoad) {
  testing::make_old_style_checkpoint(path_);
  const train::CheckpointFile file = train::read_checkpoint(path_);
  EXPECT_FALSE(file.run.has_value());
  EXPECT_FALSE(file.has_checksums);
  TinyRun other(99);
  EXPECT_EQ(train::restore_checkpoint(file, other.state()), 42);
}

TEST_F(CheckpointFileTest, AChecksumListThatLostATensorIsRefused) {
  testing::edit_tensor_file(path_, [](io::TensorFile& f) {
    auto sums = nlohmann::json::parse(f.metadata.at("gantry_tensor_crc32"));
    sums.erase("critic.0.weight");
    f.metadata["gantry_tensor_crc32"] = sums.dump();
  });
  EXPECT_TRUE(
      testing::throws_error_mentioning([&] { train::read_checkpoint(path_); }, {path_, "tensor checksums for"}));
}

TEST_F(CheckpointFileTest, ADivergedStateIsNotSavedOverTheLastCheckpoint) {
  const std::string before = io::read_file(path_);
  TinyRun run(3);
  Tensor w = run.g->parameters()[0];
  w.data_ptr<float>()[0] = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(testing::throws_error_mentioning(
      [&] { train::save_checkpoint(path_, run.state(), 50, identity_); },
      {"tensor 'generator.0.weight' holds NaN or infinite values at step 50", path_, "was not written"}));
  EXPECT_EQ(io::read_file(path_), before);
}

TEST(Digest, KnownValues) {
  const std::string check = "123456789";  // the standard CRC-32 check input
  EXPECT_EQ(io::crc32_hex(check.data(), check.size()), "cbf43926");
  EXPECT_EQ(io::fnv1a64_hex(""), "cbf29ce484222325");
  EXPECT_EQ(io::fnv1a64_hex("a"), "af63dc4c8601ec8c");
}

}  // namespace
}  // namespace gantry
