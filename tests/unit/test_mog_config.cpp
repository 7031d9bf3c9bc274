// The MoG run configuration's identity (what a resumed run must share, what checkpoints hash) and the
// bounds validate() puts on the core-set factors.
#include <gtest/gtest.h>

#include <functional>
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

// The protocol variants change the run, so they are part of its identity, but only when they differ
// from the pinned protocol: runs recorded before the options existed keep their identity.
TEST(MogConfig, ProtocolVariantsJoinTheIdentityOnlyWhenTheyDifferFromThePinnedProtocol) {
  const mog::MogTrainConfig pinned = valid_config();
  for (const char* key : {"prior", "latent_dim", "hidden_layers", "grid_spacing"})
    EXPECT_FALSE(pinned.identity_json().contains(key)) << key;
  // The pinned protocol's identity as it was before these options: a fixed string.
  EXPECT_EQ(pinned.identity_json().dump(),
            R"({"batch":256,"beta1":0.5,"beta2":0.999,"coreset_data":false,"coreset_prior":false,"d_steps":1,)"
            R"("loss":"non-saturating","lr":0.0001,"modes":25,"seed":0,"selection":"full"})");
  const auto differs = [&](const std::function<void(mog::MogTrainConfig&)>& change, const std::string& option) {
    mog::MogTrainConfig v = valid_config();
    change(v);
    EXPECT_NO_THROW(v.validate()) << option;
    EXPECT_NE(v.identity_hash(), pinned.identity_hash()) << option;
    const auto d = mog::identity_difference(pinned, v);
    ASSERT_TRUE(d.has_value()) << option;
    EXPECT_EQ(d->option, option);
    EXPECT_EQ(mog::MogTrainConfig::from_json(v.to_json()).identity_hash(), v.identity_hash()) << option;
  };
  differs([](auto& c) { c.prior = "uniform"; }, "--prior");
  differs([](auto& c) { c.latent_dim = 8; }, "--latent-dim");
  differs([](auto& c) { c.hidden_layers = 4; }, "--hidden-layers");
  differs([](auto& c) { c.grid_spacing = 1.5; }, "--grid-spacing");
  mog::MogTrainConfig v = valid_config();
  v.prior = "uniform";
  v.latent_dim = 5;
  v.hidden_layers = 4;
  v.grid_spacing = 3;
  EXPECT_EQ(v.latent_prior(), train::LatentPrior::uniform);
  EXPECT_EQ(v.arch().latent_dim, 5);
  EXPECT_EQ(v.arch().hidden_layers, 4);
  EXPECT_DOUBLE_EQ(v.mixture().spacing(), 3.0);
  EXPECT_DOUBLE_EQ(v.mixture().centre_x(1) - v.mixture().centre_x(0), 3.0);
}

TEST(MogConfig, ProtocolVariantsOutsideTheirRangeAreRefusedNamingTheOption) {
  const auto refused = [](const std::function<void(mog::MogTrainConfig&)>& change,
                          std::initializer_list<std::string> words) {
    mog::MogTrainConfig c = valid_config();
    change(c);
    return testing::throws_error_mentioning([&] { c.validate(); }, words);
  };
  EXPECT_TRUE(refused([](auto& c) { c.prior = "gaussian"; }, {"--prior", "normal or uniform", "gaussian"}));
  EXPECT_TRUE(refused([](auto& c) { c.latent_dim = 0; }, {"--latent-dim", "[1, 4096]", "0"}));
  EXPECT_TRUE(refused([](auto& c) { c.hidden_layers = 0; }, {"--hidden-layers", "[1, 64]"}));
  EXPECT_TRUE(refused([](auto& c) { c.grid_spacing = 0.3; }, {"--grid-spacing", "0.4"}));
  EXPECT_TRUE(refused([](auto& c) { c.grid_spacing = std::numeric_limits<double>::quiet_NaN(); }, {"--grid-spacing"}));
  EXPECT_TRUE(refused([](auto& c) { c.beta1 = 1.0; }, {"--beta1", "[0, 1)"}));
  EXPECT_TRUE(refused([](auto& c) { c.beta2 = -0.1; }, {"--beta2", "[0, 1)"}));
}

}  // namespace
}  // namespace gantry
