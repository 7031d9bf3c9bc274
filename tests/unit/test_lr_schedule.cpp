// optim::LrSchedule against PyTorch's schedulers (tests/golden/make_lr_schedule_golden.py: LinearLR,
// SequentialLR and LambdaLR), its exact endpoints, the text and JSON forms, their errors, and
// apply() on an optimiser.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/ops/ops.h"
#include "engine/optim/lr_schedule.h"
#include "engine/optim/sgd.h"
#include "tests/support/error_matchers.h"
#include "tests/support/golden_file.h"

namespace gantry {
namespace {

using optim::LrSchedule;
using testing::throws_error_mentioning;

TEST(LrScheduleGolden, EveryScheduleMatchesTorchAtEveryStep) {
  const testing::GoldenFile golden("lr_schedule_golden.safetensors");
  const nlohmann::json cases = nlohmann::json::parse(golden.meta("cases"));
  ASSERT_EQ(cases.size(), 7u);
  for (const nlohmann::json& c : cases) {
    const std::string name = c.at("name").get<std::string>();
    SCOPED_TRACE(name + ": " + c.at("schedule").get<std::string>());
    const LrSchedule schedule = LrSchedule::parse(c.at("schedule").get<std::string>(), c.at("base_lr").get<double>());
    const std::vector<double> expected = to_vector<double>(golden.tensor("lr." + name));
    ASSERT_EQ(static_cast<int64_t>(expected.size()), c.at("steps").get<int64_t>());
    for (size_t step = 0; step < expected.size(); ++step)
      EXPECT_NEAR(schedule.lr_at(static_cast<int64_t>(step)), expected[step], 1e-12 * expected[step] + 1e-20)
          << "step " << step;
  }
}

TEST(LrSchedule, LinearDecayHitsItsEndpointsExactlyAndHoldsThemOutside) {
  const LrSchedule s = LrSchedule::linear(1.0, 10, 20, 0.5);
  EXPECT_EQ(s.lr_at(0), 1.0);
  EXPECT_EQ(s.lr_at(10), 1.0);
  EXPECT_EQ(s.lr_at(15), 0.75);
  EXPECT_EQ(s.lr_at(20), 0.5);
  EXPECT_EQ(s.lr_at(1'000'000), 0.5);
  const LrSchedule to_zero = LrSchedule::linear(2e-4, 0, 4);
  EXPECT_EQ(to_zero.lr_at(2), 1e-4);
  EXPECT_EQ(to_zero.lr_at(4), 0.0);
  EXPECT_EQ(LrSchedule::constant(3e-4).lr_at(123456), 3e-4);
}

TEST(LrSchedule, WarmupStartsAtBaseOverNAndReachesBaseAtStepNMinusOne) {
  const LrSchedule s = LrSchedule::constant(1e-3).with_warmup(4);
  EXPECT_DOUBLE_EQ(s.lr_at(0), 0.25e-3);
  EXPECT_DOUBLE_EQ(s.lr_at(1), 0.5e-3);
  EXPECT_EQ(s.lr_at(3), 1e-3);
  EXPECT_EQ(s.lr_at(4), 1e-3);
  EXPECT_TRUE(throws_error_mentioning([&] { s.lr_at(-1); }, {"LrSchedule::lr_at", "-1"}));
}

TEST(LrSchedule, TextFormRoundTripsThroughToString) {
  const double base = 2e-4;
  for (const std::string text : {"constant", "linear:0:100000", "linear:5:10:1.0000000000000001e-05",
                                 "warmup:7+constant", "warmup:500+linear:1000:90000:3e-07"}) {
    const LrSchedule s = LrSchedule::parse(text, base);
    EXPECT_EQ(LrSchedule::parse(s.to_string(), base), s) << text;
  }
  EXPECT_EQ(LrSchedule::parse("warmup:7", base).to_string(), "warmup:7+constant");
  EXPECT_EQ(LrSchedule::parse("linear:0:10:0", base).to_string(), "linear:0:10");
  const LrSchedule full = LrSchedule::parse("warmup:3+linear:4:9:1e-6", base);
  EXPECT_EQ(full, LrSchedule::linear(base, 4, 9, 1e-6).with_warmup(3));
  EXPECT_EQ(full.warmup_steps(), 3);
  EXPECT_EQ(full.decay_start(), 4);
  EXPECT_EQ(full.decay_end(), 9);
  EXPECT_EQ(full.final_lr(), 1e-6);
}

TEST(LrSchedule, ParseErrorsNameTheTextAndTheBadPart) {
  const auto fails = [](const std::string& text, std::vector<std::string> fragments) {
    fragments.push_back("lr schedule '" + text + "'");
    return throws_error_mentioning([&] { LrSchedule::parse(text, 1e-3); }, fragments);
  };
  EXPECT_TRUE(fails("", {"unknown schedule ''"}));
  EXPECT_TRUE(fails("cosine", {"unknown schedule 'cosine'", "linear:START:END"}));
  EXPECT_TRUE(fails("linear:10", {"1 fields after 'linear'"}));
  EXPECT_TRUE(fails("linear:1:2:3:4", {"4 fields after 'linear'"}));
  EXPECT_TRUE(fails("linear:x:10", {"START 'x' is not a step count"}));
  EXPECT_TRUE(fails("linear:-5:10", {"START '-5' is not a step count"}));
  EXPECT_TRUE(fails("linear:0:1e3", {"END '1e3' is not a step count"}));
  EXPECT_TRUE(fails("linear:10:5", {"the decay end (5) must be after its start (10)"}));
  EXPECT_TRUE(fails("linear:0:10:fast", {"FINAL 'fast' is not a number"}));
  EXPECT_TRUE(fails("linear:0:10:-1e-4", {"the final learning rate must be finite and >= 0"}));
  EXPECT_TRUE(fails("warmup:0+constant", {"the warm-up N must be >= 1"}));
  EXPECT_TRUE(fails("warmup:ten", {"the warm-up N 'ten' is not a step count"}));
  EXPECT_TRUE(fails("warmup:5+", {"unknown schedule ''"}));
  EXPECT_TRUE(fails("warmup:5+warmup:3", {"unknown schedule 'warmup:3'"}));
  EXPECT_TRUE(fails("linear:0:10+warmup:5", {"'+' may only follow a warm-up"}));
  EXPECT_TRUE(throws_error_mentioning([] { LrSchedule::parse("constant", -1.0); },
                                      {"lr schedule 'constant'", "base learning rate", "-1"}));
}

TEST(LrSchedule, JsonRoundTripsAndNamesTheBadField) {
  const LrSchedule s = LrSchedule::linear(2e-4, 0, 100000, 1e-6).with_warmup(1000);
  const nlohmann::json j = s.to_json();
  EXPECT_EQ(j.at("decay"), "linear");
  EXPECT_EQ(j.at("decay_end"), 100000);
  EXPECT_EQ(j.at("warmup_steps"), 1000);
  EXPECT_EQ(LrSchedule::from_json(nlohmann::json::parse(j.dump())), s);
  EXPECT_EQ(LrSchedule::from_json(LrSchedule::constant(5e-5).to_json()), LrSchedule::constant(5e-5));
  EXPECT_FALSE(LrSchedule::constant(5e-5).to_json().contains("decay_start"));

  const auto fails_with = [&](const std::string& key, const nlohmann::json& value, const std::string& fragment) {
    nlohmann::json bad = j;
    if (value.is_discarded()) bad.erase(key);
    else bad[key] = value;
    return throws_error_mentioning([&] { LrSchedule::from_json(bad); }, {"lr schedule JSON", fragment});
  };
  EXPECT_TRUE(fails_with("decay", "cosine", "'decay' must be \"constant\" or \"linear\""));
  EXPECT_TRUE(fails_with("decay_end", nlohmann::json::value_t::discarded, "'decay_end' is missing"));
  EXPECT_TRUE(fails_with("decay_end", 1.5, "'decay_end' must be an integer"));
  EXPECT_TRUE(fails_with("base_lr", "fast", "'base_lr' must be a number"));
  EXPECT_TRUE(fails_with("decay_start", 200000, "the decay end (100000) must be after its start (200000)"));
  EXPECT_TRUE(fails_with("warmup_steps", -3, "the warm-up must be >= 0 steps, got -3"));
  EXPECT_TRUE(throws_error_mentioning([] { LrSchedule::from_json(nlohmann::json::array()); },
                                      {"lr schedule JSON: expected an object"}));
}

TEST(LrSchedule, ApplySetsTheRateTheNextUpdateUses) {
  Tensor p = from_vector(std::vector<double>{1.0}, {1});
  p.set_requires_grad(true);
  optim::SGD sgd({p}, {0.5});
  const LrSchedule schedule = LrSchedule::linear(0.5, 0, 4);
  for (int64_t step = 0; step < 3; ++step) {
    const double before = to_vector<double>(p)[0];
    schedule.apply(sgd, step);
    EXPECT_EQ(sgd.lr(), schedule.lr_at(step));
    p.set_grad(from_vector(std::vector<double>{1.0}, {1}));
    sgd.step();
    EXPECT_DOUBLE_EQ(before - to_vector<double>(p)[0], schedule.lr_at(step)) << "step " << step;
  }
  EXPECT_EQ(schedule.lr_at(1), 0.375);
}

}  // namespace
}  // namespace gantry
