// Image-run configurations: the presets carry their papers' settings, validation names the option,
// the JSON form round-trips, and the identity covers what defines a run.
#include <gtest/gtest.h>

#include <set>

#include "tests/support/temp_folder.h"
#include "train/image/image_config.h"

namespace gantry {
namespace {

using image::ImageTrainConfig;

ImageTrainConfig valid(const std::string& model) {
  ImageTrainConfig c = ImageTrainConfig::preset(model);
  c.out = "/tmp/unused";
  return c;
}

TEST(ImageConfig, PresetsCarryTheSettingsOfThePapersThatProposedTheModels) {
  const ImageTrainConfig dcgan = ImageTrainConfig::preset("dcgan");
  EXPECT_EQ(dcgan.loss, "non-saturating");
  EXPECT_EQ(dcgan.g_lr, 2e-4);
  EXPECT_EQ(dcgan.beta1, 0.5);
  const ImageTrainConfig gc = ImageTrainConfig::preset("wgan-gc");
  EXPECT_EQ(gc.optimizer, "rmsprop");
  EXPECT_EQ(gc.g_lr, 5e-5);
  EXPECT_EQ(gc.clip, 0.01);
  EXPECT_EQ(gc.d_steps, 5);
  const ImageTrainConfig gp = ImageTrainConfig::preset("wgan-gp");
  EXPECT_EQ(gp.gp_weight, 10);
  EXPECT_EQ(gp.beta1, 0.0);
  EXPECT_EQ(gp.beta2, 0.9);
  EXPECT_EQ(ImageTrainConfig::preset("msgan").ms_weight, 1.0);
  const ImageTrainConfig sn = ImageTrainConfig::preset("sngan");
  EXPECT_EQ(sn.loss, "hinge");
  EXPECT_EQ(sn.d_steps, 5);
  EXPECT_EQ(sn.lr_decay, "linear");
  const ImageTrainConfig sa = ImageTrainConfig::preset("sagan");
  EXPECT_EQ(sa.g_lr, 1e-4);
  EXPECT_EQ(sa.d_lr, 4e-4);
  EXPECT_EQ(sa.d_steps, 1);
  for (const char* m : {"dcgan", "msgan", "wgan-gc", "wgan-gp", "sngan", "sagan"}) {
    EXPECT_EQ(ImageTrainConfig::preset(m).batch, 128) << m;  // the top-k paper's batch
    EXPECT_NO_THROW(valid(m).validate()) << m;
  }
}

TEST(ImageConfig, AnUnknownModelIsRefusedListingTheKnownOnes) {
  try {
    ImageTrainConfig::preset("stylegan");
    FAIL() << "not refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("dcgan, msgan, wgan-gc, wgan-gp, sngan, sagan"), std::string::npos);
  }
}

TEST(ImageConfig, ImpossibleSettingsAreRefusedNamingTheOption) {
  const auto refused = [](ImageTrainConfig c, const std::string& option) {
    try {
      c.validate();
      ADD_FAILURE() << option << " not refused";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(option), std::string::npos) << e.what();
    }
  };
  ImageTrainConfig c = valid("dcgan");
  c.image_size = 28;
  refused(c, "--image-size");
  c = valid("dcgan");
  c.selection = train::BatchSelection::top_k;
  c.nu = "300";
  refused(c, "--nu");
  c = valid("dcgan");
  c.optimizer = "sgd";
  refused(c, "--optimizer");
  c = valid("dcgan");
  c.ema_decay = 1.0;
  refused(c, "--ema-decay");
  c = valid("dcgan");
  c.coreset_data = true;
  c.fx = 0.5;
  refused(c, "--fx");
  c = valid("dcgan");
  c.batch = 1;
  refused(c, "--batch");
}

TEST(ImageConfig, JsonRoundTripsAndTheIdentityCoversTheModelAndMethod) {
  ImageTrainConfig c = valid("sngan");
  c.selection = train::BatchSelection::top_k;
  c.coreset_prior = true;
  c.ema_decay = 0.999;
  c.ema_start = 1000;
  const ImageTrainConfig back = ImageTrainConfig::from_json(c.to_json());
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_EQ(back.identity_hash(), c.identity_hash());
  ImageTrainConfig other = c;
  other.model = "sagan";
  EXPECT_NE(other.identity_hash(), c.identity_hash());
  other = c;
  other.sample_every = 7;  // bookkeeping: the same run
  EXPECT_EQ(other.identity_hash(), c.identity_hash());
  EXPECT_EQ(c.method_name(), "top-k + core-set (prior)");
}

// Small-GAN's Table 6 ablations as settings (docs/image-gans.md): each is a run of its own, and the
// settings round-trip through config.json.
TEST(ImageConfig, TheTable6AblationsAreDistinctRunsThatRoundTrip) {
  const auto ablation = [](bool prior, bool data, const std::string& embedding, int64_t dim) {
    ImageTrainConfig c = valid("sngan");
    c.coreset_prior = prior;
    c.coreset_data = data;
    c.coreset_embedding = embedding;
    c.coreset_dim = dim;
    c.validate();
    return c;
  };
  const std::vector<ImageTrainConfig> runs = {
      ablation(false, false, "pixels", 32),  // A: no core-sets
      ablation(true, true, "pixels", 0),     // B: core-set on the pixels, no embedding network
      ablation(true, true, "pixels", 32),    // the full method (pixels until the Inception features land)
      ablation(true, false, "pixels", 32),   // D: prior only
      ablation(false, true, "pixels", 32),   // E: data only
  };
  std::set<std::string> hashes;
  for (const ImageTrainConfig& c : runs) {
    hashes.insert(c.identity_hash());
    const ImageTrainConfig back = ImageTrainConfig::from_json(c.to_json());
    EXPECT_EQ(back.to_json(), c.to_json());
    EXPECT_EQ(back.identity_hash(), c.identity_hash());
  }
  EXPECT_EQ(hashes.size(), runs.size());
  EXPECT_EQ(runs[1].identity_json().at("coreset_dim"), 0);
  EXPECT_EQ(runs[2].identity_json().at("coreset_embedding"), "pixels");
  EXPECT_EQ(runs[2].identity_json().at("coreset_projection_seed"), 0);
  EXPECT_FALSE(runs[1].identity_json().contains("coreset_projection_seed")) << "no projection, no seed";
  EXPECT_FALSE(runs[3].identity_json().contains("coreset_dim")) << "settings of a data core-set that is off";
  ImageTrainConfig seed = runs[2];
  seed.coreset_projection_seed = 1;
  EXPECT_NE(seed.identity_hash(), runs[2].identity_hash());
  EXPECT_EQ(runs[0].method_name(), "baseline");
  EXPECT_EQ(runs[3].method_name(), "core-set (prior)");
  EXPECT_EQ(runs[4].method_name(), "core-set (data)");
}

// Every (f_z, f_x) pair of Small-GAN's Table 7 at its batch of 128 is accepted and recorded.
TEST(ImageConfig, EveryTable7FactorPairIsAcceptedAndRecorded) {
  const std::vector<std::pair<double, double>> pairs = {{2, 2}, {2, 4}, {4, 2},   {4, 4},  {8, 4},
                                                        {4, 8}, {8, 8}, {16, 16}, {32, 32}};
  std::set<std::string> hashes;
  for (const auto& [fz, fx] : pairs) {
    ImageTrainConfig c = valid("sngan");
    c.coreset_prior = c.coreset_data = true;
    c.fz = fz;
    c.fx = fx;
    EXPECT_NO_THROW(c.validate()) << fz << " x " << fx;
    const ImageTrainConfig back = ImageTrainConfig::from_json(c.to_json());
    EXPECT_EQ(back.fz, fz);
    EXPECT_EQ(back.fx, fx);
    EXPECT_EQ(c.identity_json().at("fz"), fz);
    EXPECT_EQ(c.identity_json().at("fx"), fx);
    hashes.insert(c.identity_hash());
  }
  EXPECT_EQ(hashes.size(), pairs.size());
}

TEST(ImageConfig, BadDataCoresetSettingsAreRefusedNamingTheOption) {
  const auto refused = [](ImageTrainConfig c, const std::string& fragment) {
    c.coreset_data = true;
    try {
      c.validate();
      ADD_FAILURE() << fragment << " not refused";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  ImageTrainConfig c = valid("dcgan");
  c.coreset_dim = -1;
  refused(c, "--coreset-dim: must be in [0, 65536]");
  c = valid("dcgan");
  c.coreset_embedding = "clip";
  refused(c, "--coreset-embedding: unknown embedding 'clip'");
  c = valid("dcgan");
  c.fx = 0.99;
  refused(c, "--fx");
}

// A run recorded before the embedding options measured the raw pixels, unprojected.
TEST(ImageConfig, AnOlderDataCoresetRunIsReadAsUnprojectedPixels) {
  ImageTrainConfig c = valid("dcgan");
  c.coreset_data = true;
  nlohmann::json j = c.to_json();
  j.erase("coreset_embedding");
  j.erase("coreset_dim");
  j.erase("coreset_projection_seed");
  const ImageTrainConfig back = ImageTrainConfig::from_json(j);
  EXPECT_EQ(back.coreset_embedding, "pixels");
  EXPECT_EQ(back.coreset_dim, 0);
}

TEST(ImageConfig, AMixtureOfGaussiansConfigIsNotReadAsAnImageRun) {
  nlohmann::json j = valid("dcgan").to_json();
  j.erase("kind");
  EXPECT_THROW(ImageTrainConfig::from_json(j), Error);
}

}  // namespace
}  // namespace gantry
