// The MoG run configuration's identity (what a resumed run must share, what checkpoints hash) and the
// bounds validate() puts on the core-set factors.
#include <gtest/gtest.h>

#include <limits>

#include "tests/support/error_matchers.h"
#include "train/mog/mog_config.h"

namespace gantry {
namespace {

mog::MogTrainConfig valid_config() {
  mog::MogTrainConfig c;
  c.out = "unused";
  return c;
}

TEST(MogConfig, SettingsOfFeaturesThatAreOffAreNotPartOfTheIdentity) {
  mog::MogTrainConfig a = valid_config(), b = valid_config();
  b.decay_every = 40;
  b.gamma = 0.5;
  b.fz = 2;
  b.fx = 3;
  b.anneal = true;
  EXPECT_EQ(a.identity_json(), b.identity_json());
  EXPECT_EQ(a.identity_hash(), b.identity_hash());
  EXPECT_FALSE(mog::identity_difference(a, b).has_value());
  a.selection = b.selection = mog::BatchSelection::top_k;
  EXPECT_NE(a.identity_hash(), b.identity_hash());
  const auto d = mog::identity_difference(a, b);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->key, "decay_every");
  EXPECT_EQ(d->option, "--decay-every");
  EXPECT_EQ(d->first, "2000");
  EXPECT_EQ(d->second, "40");
}

TEST(MogConfig, AFeatureSwitchIsReportedBeforeTheSettingsItBrings) {
  mog::MogTrainConfig a = valid_config(), b = valid_config();
  a.selection = mog::BatchSelection::top_k;
  const auto d = mog::identity_difference(a, b);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->option, "--topk/--bottomk");
  EXPECT_EQ(d->first, "\"top-k\"");
  EXPECT_EQ(d->second, "\"full\"");
}

// config.json files written before the identity left out the settings of features that are off
// still read back to the same run.
TEST(MogConfig, OlderConfigJsonWithEveryKeyHasTheSameIdentity) {
  mog::MogTrainConfig c = valid_config();
  c.modes = 64;
  c.coreset_data = true;
  nlohmann::json old = c.to_json();
  old.update({{"topk_target", "g"}, {"gamma", 0.99}, {"nu", "0.75"}, {"decay_every", 160}, {"fz", 4.0}});
  const mog::MogTrainConfig back = mog::MogTrainConfig::from_json(old);
  EXPECT_EQ(back.identity_hash(), c.identity_hash());
  EXPECT_EQ(mog::MogTrainConfig::from_json(c.to_json()).to_json(), c.to_json());
  EXPECT_FALSE(c.to_json().contains("gamma"));
}

TEST(MogConfig, CoresetFactorsAreBoundedBeforeAnythingRuns) {
  mog::MogTrainConfig c = valid_config();
  c.coreset_data = true;
  c.fx = 1e9;
  EXPECT_TRUE(testing::throws_error_mentioning([&] { c.validate(); }, {"--fx", "at most 1000", "1e+09"}));
  c.fx = 1000;
  c.batch = 2048;  // 2,048,000 candidates per step
  EXPECT_TRUE(testing::throws_error_mentioning([&] { c.validate(); }, {"--fx", "candidates per step", "1048576"}));
  c.batch = 1024;  // exactly the limit
  EXPECT_NO_THROW(c.validate());
  c.coreset_data = false;
  c.coreset_prior = true;
  c.fz = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(testing::throws_error_mentioning([&] { c.validate(); }, {"--fz", "must be >= 1"}));
}

}  // namespace
}  // namespace gantry
