// nn::WeightEma: a hand-written PyTorch EMA of a generator with BatchNorm and spectral norm
// (tests/golden/make_weight_ema_golden.py), the formula and the start step on known values, the
// EMA copy of a module, checkpoints through a safetensors file, mismatched architectures, and the
// CUDA multi-tensor kernel against the CPU.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/io/safetensors.h"
#include "engine/nn/activations.h"
#include "engine/nn/conv.h"
#include "engine/nn/linear.h"
#include "engine/nn/norm.h"
#include "engine/nn/sequential.h"
#include "engine/nn/spectral_norm.h"
#include "engine/nn/weight_ema.h"
#include "engine/ops/ops.h"
#include "tests/support/error_matchers.h"
#include "tests/support/golden_file.h"
#include "tests/support/temp_folder.h"
#include "tests/support/test_util.h"

namespace gantry {
namespace {

using testing::throws_error_mentioning;

// Linear(in, out) -> BatchNorm1d(out): parameters, float buffers and the int64 num_batches_tracked.
std::shared_ptr<nn::Sequential> linear_bn(int64_t in, int64_t out, uint64_t seed, DType dtype = DType::f64,
                                          Device device = kCPU) {
  Generator gen(seed);
  auto net = std::make_shared<nn::Sequential>();
  net->push_back(std::make_shared<nn::Linear>(in, out, true, gen, dtype, device))
      .push_back(std::make_shared<nn::BatchNorm1d>(out, nn::BatchNormOptions{}, dtype, device));
  return net;
}

// Sets every floating tensor of `module` to fresh random values and num_batches_tracked to `count`
// (what a training step does to them).
void randomise(nn::Module& module, uint64_t seed, int64_t count) {
  nn::StateDict state;
  for (const auto& [name, t] : module.state_dict()) {
    if (is_floating(t.dtype())) {
      state.emplace_back(name, testing::random_uniform(t.shape(), seed++, -1, 1, DType::f64));
    } else {
      state.emplace_back(name, full(t.shape(), static_cast<double>(count), DType::i64));
    }
  }
  module.load_state_dict(state);
}

std::vector<double> values(const Tensor& t) { return to_vector<double>(t.to(kCPU).to(DType::f64)); }

TEST(WeightEmaGolden, MatchesATorchEmaOfWeightsBatchNormAndSpectralNormBuffers) {
  const testing::GoldenFile golden("weight_ema_golden.safetensors");
  Generator gen(1);
  auto g = std::make_shared<nn::Sequential>();
  g
      ->push_back(std::make_shared<nn::ConvTranspose2d>(
          4, 6, Size2{4, 4}, gen, nn::ConvTranspose2dOptions{.stride = {2, 2}, .padding = {1, 1}, .bias = false}))
      .push_back(std::make_shared<nn::BatchNorm2d>(6))
      .push_back(std::make_shared<nn::ReLU>())
      .push_back(nn::spectral_norm(
          std::make_shared<nn::Conv2d>(6, 3, Size2{3, 3}, gen, nn::Conv2dOptions{.padding = {1, 1}}), gen))
      .push_back(std::make_shared<nn::Tanh>());
  const nlohmann::json names = nlohmann::json::parse(golden.meta("names"));
  ASSERT_EQ(testing::names_of(g->state_dict()), names.get<std::vector<std::string>>());
  golden.load_into(*g, "source.init.");
  nn::WeightEma ema(*g, {golden.meta_double("decay"), golden.meta_int("start_step")});
  ASSERT_EQ(ema.options().start_step, 2);
  const int64_t steps = golden.meta_int("steps");
  for (int64_t step = 0; step < steps; ++step) {
    const std::string s = std::to_string(step);
    golden.load_into(*g, "source." + s + ".");
    ema.update(step);
    for (const auto& [name, shadow] : ema.shadow()) {
      // float32: the engine may fuse the multiply-add, PyTorch rounds twice; a few ulps over six steps.
      EXPECT_TRUE(golden.matches(shadow, "ema." + s + "." + name, 2e-6)) << "step " << step;
    }
  }
  // The averaged state differs from the last source (the EMA did something) but for the counter.
  for (const auto& [name, shadow] : ema.shadow()) {
    const Tensor& last = golden.tensor("source." + std::to_string(steps - 1) + "." + name);
    if (shadow.dtype() == DType::i64) {
      EXPECT_EQ(values(shadow), values(last)) << name;
    } else {
      EXPECT_FALSE(testing::all_close(shadow, last, 1e-3, 1e-4)) << name;
    }
  }
}

TEST(WeightEma, FollowsTheFormulaOverSeveralStepsIncludingBatchNormBuffers) {
  auto net = linear_bn(3, 4, 7);
  const double decay = 0.75;
  nn::WeightEma ema(*net, {decay, 0});
  std::map<std::string, std::vector<double>> reference;
  for (const auto& [name, t] : net->state_dict()) reference[name] = values(t);  // the initial copy
  for (int64_t step = 0; step < 4; ++step) {
    randomise(*net, 100 + 10 * step, step + 1);
    ema.update(step);
    for (const auto& [name, t] : net->state_dict()) {
      std::vector<double>& r = reference[name];
      const std::vector<double> src = values(t);
      for (size_t i = 0; i < r.size(); ++i)
        r[i] = is_floating(t.dtype()) ? decay * r[i] + (1 - decay) * src[i] : src[i];
    }
    for (const auto& [name, shadow] : ema.shadow()) {
      const std::vector<double> got = values(shadow), want = reference[name];
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i)
        EXPECT_NEAR(got[i], want[i], 1e-15) << name << "[" << i << "] step " << step;
    }
  }
  const std::vector<std::string> expected_names = {
      "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"};
  EXPECT_EQ(testing::names_of(ema.shadow()), expected_names);
  EXPECT_EQ(values(ema.shadow().back().second), (std::vector<double>{4.0}));  // copied, not averaged
}

TEST(WeightEma, CopiesExactlyBeforeTheStartStepAndAveragesFromIt) {
  auto net = linear_bn(3, 2, 8);
  nn::WeightEma ema(*net, {0.5, 3});
  for (int64_t step = 0; step < 3; ++step) {
    randomise(*net, 200 + 10 * step, step);
    ema.update(step);
    for (size_t i = 0; i < ema.shadow().size(); ++i)
      EXPECT_EQ(values(ema.shadow()[i].second), values(net->state_dict()[i].second)) << "step " << step;
  }
  const std::vector<double> before = values(ema.shadow()[0].second);
  randomise(*net, 300, 3);
  ema.update(3);
  const std::vector<double> src = values(net->state_dict()[0].second), got = values(ema.shadow()[0].second);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], 0.5 * before[i] + 0.5 * src[i]);
}

TEST(WeightEma, CopyToLoadsTheShadowIntoASecondModuleOfTheSameArchitecture) {
  auto net = linear_bn(3, 4, 9);
  nn::WeightEma ema(*net, {0.9, 0});
  for (int64_t step = 0; step < 3; ++step) {
    randomise(*net, 400 + 10 * step, step + 1);
    ema.update(step);
  }
  auto sampler = linear_bn(3, 4, 10, DType::f32);  // the EMA generator may be float32; dtype is kept
  ema.copy_to(*sampler);
  const nn::StateDict loaded = sampler->state_dict();
  for (size_t i = 0; i < loaded.size(); ++i) {
    EXPECT_EQ(loaded[i].second.dtype(), ema.shadow()[i].second.dtype() == DType::i64 ? DType::i64 : DType::f32);
    EXPECT_TRUE(testing::all_close(loaded[i].second.to(DType::f64), ema.shadow()[i].second.to(DType::f64), 1e-7, 0))
        << loaded[i].first;
  }
  // The source keeps its own weights.
  EXPECT_FALSE(testing::all_close(net->state_dict()[0].second, ema.shadow()[0].second, 1e-3, 0));
}

TEST(WeightEma, StateRoundTripsThroughASafetensorsFileAndContinuesIdentically) {
  testing::TempFolder folder("weight_ema_round_trip");
  std::filesystem::create_directories(folder.path());
  auto net = linear_bn(3, 4, 11);
  nn::WeightEma ema(*net, {0.8, 1});
  for (int64_t step = 0; step < 3; ++step) {
    randomise(*net, 500 + 10 * step, step + 1);
    ema.update(step);
  }
  const std::string path = folder.sub("ema.safetensors");
  io::save_safetensors(path, ema.state_dict());
  const io::TensorFile file = io::load_safetensors(path);
  EXPECT_EQ(file.tensors.front().first, "ema.0.weight");

  auto other = linear_bn(3, 4, 12);  // another initialisation: everything must come from the file
  nn::WeightEma resumed(*other, {0.8, 1});
  resumed.load_state_dict(file.tensors);
  for (size_t i = 0; i < ema.shadow().size(); ++i)
    EXPECT_EQ(values(resumed.shadow()[i].second), values(ema.shadow()[i].second)) << ema.shadow()[i].first;
  randomise(*net, 600, 4);
  randomise(*other, 600, 4);
  ema.update(3);
  resumed.update(3);
  for (size_t i = 0; i < ema.shadow().size(); ++i)
    EXPECT_EQ(values(resumed.shadow()[i].second), values(ema.shadow()[i].second)) << ema.shadow()[i].first;
}

TEST(WeightEma, AMismatchedArchitectureIsRefusedNamingTheFirstBadKeyAndNothingChanges) {
  auto net = linear_bn(3, 4, 13);
  nn::WeightEma ema(*net, {0.9, 0});
  const std::vector<double> before = values(ema.shadow()[0].second);

  auto wider = linear_bn(3, 5, 14);
  nn::WeightEma wider_ema(*wider, {0.9, 0});
  EXPECT_TRUE(throws_error_mentioning(
      [&] { ema.load_state_dict(wider_ema.state_dict()); },
      {"WeightEma::load_state_dict", "'ema.0.weight' has shape [5, 3]", "the module's '0.weight' has shape [4, 3]"}));
  nn::StateDict missing = ema.state_dict();
  missing.erase(missing.begin() + 4);  // ema.1.running_mean
  EXPECT_TRUE(throws_error_mentioning([&] { ema.load_state_dict(missing); }, {"missing key 'ema.1.running_mean'"}));
  nn::StateDict extra = ema.state_dict();
  extra.emplace_back("ema.2.weight", ones({4}, DType::f64));
  EXPECT_TRUE(throws_error_mentioning([&] { ema.load_state_dict(extra); },
                                      {"unexpected key 'ema.2.weight'", "the module has no '2.weight'"}));
  nn::StateDict unprefixed = net->state_dict();
  EXPECT_TRUE(throws_error_mentioning([&] { ema.load_state_dict(unprefixed); }, {"missing key 'ema.0.weight'"}));
  EXPECT_TRUE(
      throws_error_mentioning([&] { ema.copy_to(*wider); }, {"WeightEma::copy_to", "does not match", "0.weight"}));
  EXPECT_EQ(values(ema.shadow()[0].second), before);
  EXPECT_EQ(values(wider->state_dict()[0].second), values(wider_ema.shadow()[0].second));
}

TEST(WeightEma, BadOptionsAndStepsThrow) {
  auto net = linear_bn(2, 2, 15);
  EXPECT_TRUE(throws_error_mentioning([&] { nn::WeightEma(*net, {1.5, 0}); }, {"decay must be in [0, 1]", "1.5"}));
  EXPECT_TRUE(throws_error_mentioning([&] { nn::WeightEma(*net, {0.9, -1}); }, {"start_step must be >= 0"}));
  nn::WeightEma ema(*net);
  EXPECT_EQ(ema.options().decay, 0.9999);
  EXPECT_TRUE(throws_error_mentioning([&] { ema.update(-1); }, {"WeightEma::update", "-1"}));
}

class WeightEmaOnDevice : public testing::DeviceTest {};
GANTRY_INSTANTIATE_DEVICE_TEST(WeightEmaOnDevice);

TEST_P(WeightEmaOnDevice, AveragesLikeTheCpuInBothDtypesOverSeveralChunks) {
  for (const DType dtype : {DType::f32, DType::f64}) {
    SCOPED_TRACE(dtype_name(dtype));
    // Linear(350, 200): 70,000 weights span two 64K-element chunks of the CUDA multi-tensor launch.
    auto on_cpu = linear_bn(350, 200, 16, dtype), on_device = linear_bn(350, 200, 16, dtype, device());
    on_device->load_state_dict(on_cpu->state_dict());
    nn::WeightEma cpu_ema(*on_cpu, {0.7, 1}), device_ema(*on_device, {0.7, 1});
    for (int64_t step = 0; step < 3; ++step) {
      randomise(*on_cpu, 700 + 1000 * step, step + 1);
      on_device->load_state_dict(on_cpu->state_dict());
      cpu_ema.update(step);
      device_ema.update(step);
    }
    for (size_t i = 0; i < cpu_ema.shadow().size(); ++i) {
      EXPECT_EQ(device_ema.shadow()[i].second.device(), device());
      EXPECT_TRUE(testing::all_close(device_ema.shadow()[i].second.to(kCPU), cpu_ema.shadow()[i].second,
                                     dtype == DType::f32 ? 1e-6 : 1e-14, 1e-7))
          << cpu_ema.shadow()[i].first;
    }
  }
}

}  // namespace
}  // namespace gantry
