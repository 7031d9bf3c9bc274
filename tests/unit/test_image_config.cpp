// Image-run configurations: the presets carry their papers' settings, validation names the option,
// the JSON form round-trips, and the identity covers what defines a run.
#include <gtest/gtest.h>

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

TEST(ImageConfig, AMixtureOfGaussiansConfigIsNotReadAsAnImageRun) {
  nlohmann::json j = valid("dcgan").to_json();
  j.erase("kind");
  EXPECT_THROW(ImageTrainConfig::from_json(j), Error);
}

}  // namespace
}  // namespace gantry
