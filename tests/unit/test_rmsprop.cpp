// RMSprop against torch.optim.RMSprop (tests/golden/make_rmsprop_golden.py: plain, weight decay,
// centered, momentum, all options, and all options in float32), state_dict round trips that resume
// bit-identically, the CUDA multi-tensor kernel against the CPU, and bad options and states.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/ops/ops.h"
#include "engine/optim/rmsprop.h"
#include "tests/support/error_matchers.h"
#include "tests/support/golden_file.h"
#include "tests/support/test_util.h"
#include "tests/unit/optimizer_test_helpers.h"

namespace gantry {
namespace {

using testing::param_from;
using testing::Vec;

optim::RMSpropOptions options_from_json(const nlohmann::json& c) {
  optim::RMSpropOptions o;
  o.lr = c.at("lr").get<double>();
  o.alpha = c.at("alpha").get<double>();
  o.eps = c.at("eps").get<double>();
  o.weight_decay = c.at("weight_decay").get<double>();
  o.momentum = c.at("momentum").get<double>();
  o.centered = c.at("centered").get<bool>();
  return o;
}

TEST(RMSpropGolden, EveryOptionSetMatchesTorchStepByStep) {
  const testing::GoldenFile golden("rmsprop_golden.safetensors");
  const int steps = static_cast<int>(golden.meta_int("steps"));
  const nlohmann::json cases = nlohmann::json::parse(golden.meta("cases"));
  ASSERT_EQ(cases.size(), 6u);
  for (const nlohmann::json& c : cases) {
    const std::string name = c.at("name").get<std::string>();
    SCOPED_TRACE(name);
    const bool f32 = c.at("dtype").get<std::string>() == "float32";
    // float64 agrees with PyTorch to rounding; float32 over six steps to a few ulps of the scale.
    const double rtol = f32 ? 2e-6 : 1e-12;
    const optim::RMSpropOptions options = options_from_json(c);
    std::vector<Tensor> params;
    for (int j = 0; j < 2; ++j)
      params.push_back(testing::leaf(golden.tensor(name + ".init." + std::to_string(j)).clone()));
    ASSERT_EQ(params[0].dtype(), f32 ? DType::f32 : DType::f64);
    optim::RMSprop rmsprop(params, options);
    for (int step = 1; step <= steps; ++step) {
      for (int j = 0; j < 2; ++j)
        params[j].set_grad(golden.tensor(name + ".grad." + std::to_string(step) + "." + std::to_string(j)));
      rmsprop.step();
      for (int j = 0; j < 2; ++j)
        EXPECT_TRUE(golden.matches(params[j], name + ".after." + std::to_string(step) + "." + std::to_string(j), rtol));
    }
    for (size_t j = 0; j < 2; ++j) {
      const std::string state = name + ".state." + std::to_string(j) + ".";
      EXPECT_EQ(rmsprop.step_count(j), steps);
      EXPECT_TRUE(golden.matches(rmsprop.square_avg(j), state + "square_avg", rtol));
      if (options.centered) {
        EXPECT_TRUE(golden.matches(rmsprop.grad_avg(j), state + "grad_avg", rtol));
      }
      if (options.momentum > 0) {
        EXPECT_TRUE(golden.matches(rmsprop.momentum_buffer(j), state + "momentum_buffer", rtol));
      }
    }
  }
}

TEST(RMSprop, StateDictResumesBitIdentically) {
  testing::expect_bit_identical_resume<optim::RMSprop>(optim::RMSpropOptions{0.01, 0.9, 1e-6, 0.02, 0.5, true});
  testing::expect_bit_identical_resume<optim::RMSprop>(optim::RMSpropOptions{0.03, 0.8, 1e-8, 0, 0, false});
}

TEST(RMSprop, StateDictHoldsTorchStateNamesForTheOptionsInUse) {
  const auto keys_after_one_step = [](const optim::RMSpropOptions& o) {
    Tensor p = param_from({1.0, -2.0});
    optim::RMSprop rmsprop({p}, o);
    p.set_grad(from_vector(Vec{0.5, 0.25}, {2}));
    rmsprop.step();
    std::vector<std::string> keys;
    for (const auto& [k, t] : rmsprop.state_dict())
      if (k.rfind("state.", 0) == 0) keys.push_back(k);
    return keys;
  };
  EXPECT_EQ(keys_after_one_step({}), (std::vector<std::string>{"state.0.step", "state.0.square_avg"}));
  EXPECT_EQ(
      keys_after_one_step({0.01, 0.99, 1e-8, 0, 0.9, true}),
      (std::vector<std::string>{"state.0.step", "state.0.square_avg", "state.0.momentum_buffer", "state.0.grad_avg"}));
}

TEST(RMSprop, LoadStateDictRejectsBadStateAndKeepsItsOwn) {
  Tensor p = param_from({1.0, 2.0});
  optim::RMSprop rmsprop({p}, {0.01, 0.99, 1e-8, 0, 0.9, true});
  p.set_grad(from_vector(Vec{0.5, 0.25}, {2}));
  rmsprop.step();
  const optim::OptimizerState good = rmsprop.state_dict();
  optim::OptimizerState missing;
  for (const auto& kv : good)
    if (kv.first != "state.0.grad_avg") missing.push_back(kv);
  testing::expect_load_error(rmsprop, missing, "RMSprop::load_state_dict: missing key 'state.0.grad_avg'");
  optim::OptimizerState foreign = good;
  foreign.emplace_back("state.0.exp_avg", ones({2}, DType::f64));
  testing::expect_load_error(rmsprop, foreign, "unexpected key 'state.0.exp_avg'");
  Tensor other = param_from({1.0, 2.0, 3.0});
  optim::RMSprop wrong_shape({other});
  testing::expect_load_error(wrong_shape, good, "has shape [2] but parameter 0 has shape [3]");
  optim::OptimizerState bad_alpha = good;
  for (auto& [k, t] : bad_alpha)
    if (k == "options.alpha") t = scalar_tensor(-0.5, DType::f64);
  testing::expect_load_error(rmsprop, bad_alpha, "RMSprop: invalid alpha -0.5");
  EXPECT_EQ(rmsprop.step_count(0), 1);
  EXPECT_TRUE(rmsprop.options().centered);
  EXPECT_TRUE(rmsprop.grad_avg(0).defined());
}

TEST(RMSprop, BadOptionsThrowNamingTheOption) {
  Tensor p = param_from({1.0, 2.0});
  const auto fails = [&](const optim::RMSpropOptions& o, const std::string& fragment) {
    return testing::throws_error_mentioning([&] { optim::RMSprop rmsprop({p}, o); }, {"RMSprop: " + fragment});
  };
  EXPECT_TRUE(fails({-1e-3}, "invalid learning rate -0.001"));
  EXPECT_TRUE(fails({1e-3, -0.1}, "invalid alpha -0.1"));
  EXPECT_TRUE(fails({1e-3, 0.99, -1e-8}, "invalid eps"));
  EXPECT_TRUE(fails({1e-3, 0.99, 1e-8, -1}, "invalid weight_decay -1"));
  EXPECT_TRUE(fails({1e-3, 0.99, 1e-8, 0, -0.9}, "invalid momentum -0.9"));
  optim::RMSprop rmsprop({p});
  EXPECT_THROW(rmsprop.set_lr(-1), Error);
  EXPECT_EQ(rmsprop.lr(), 1e-2);
}

TEST(RMSprop, SetLrScalesTheNextStepAndSkipsParametersWithoutGradient) {
  Tensor a = param_from({1.0, 2.0}), b = param_from({3.0, 4.0});
  optim::RMSprop rmsprop({a, b});
  rmsprop.set_lr(0);
  a.set_grad(from_vector(Vec{0.5, -0.5}, {2}));
  rmsprop.step();
  EXPECT_EQ(to_vector<double>(a), (Vec{1.0, 2.0}));  // lr 0: no move, but the state advanced
  EXPECT_EQ(rmsprop.step_count(0), 1);
  EXPECT_EQ(rmsprop.step_count(1), 0);
  rmsprop.set_lr(0.1);
  EXPECT_EQ(rmsprop.lr(), 0.1);
  rmsprop.step();
  // Second step, g = +-0.5: v = 0.99 * 0.0025 + 0.01 * 0.25 = 0.004975, step = 0.1 * 0.5 / sqrt(v).
  const double expected_move = 0.1 * 0.5 / (std::sqrt(0.99 * 0.01 * 0.25 + 0.01 * 0.25) + 1e-8);
  EXPECT_NEAR(to_vector<double>(a)[0], 1.0 - expected_move, 1e-12);
  EXPECT_EQ(to_vector<double>(b), (Vec{3.0, 4.0}));
}

class RMSpropOnDevice : public testing::DeviceTest {};
GANTRY_INSTANTIATE_DEVICE_TEST(RMSpropOnDevice);

TEST_P(RMSpropOnDevice, PlainOverParametersOfDifferentShapesMatchesTheCpu) {
  testing::expect_device_steps_match_cpu<optim::RMSprop>(device(), optim::RMSpropOptions{0.01, 0.9, 1e-8, 0, 0, false});
}

TEST_P(RMSpropOnDevice, CenteredMomentumWeightDecayMatchesTheCpu) {
  testing::expect_device_steps_match_cpu<optim::RMSprop>(device(),
                                                         optim::RMSpropOptions{0.01, 0.9, 1e-4, 0.05, 0.5, true});
}

}  // namespace
}  // namespace gantry
