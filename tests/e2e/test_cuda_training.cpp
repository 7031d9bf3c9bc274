// The trainers on the CUDA device, end to end, against the same runs on the CPU: a few steps of every
// image preset (with top-k and core-set sampling on the GPU), the mixture-of-Gaussians trainer with
// top-k and both core-sets, and a CUDA checkpoint resumed on the CPU. Kernels round differently from
// the CPU's (another summation order), so the trajectories are compared within a tolerance that a
// wrong kernel (a lost term, a wrong index, a missing barrier) exceeds by orders of magnitude.
// Sizes are the smallest that exercise every kernel, so the suite also runs on the CPU emulator
// (GANTRY_CUDA=EMU; docs/cuda-emulator.md), where CI runs it. Skips without a CUDA device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "engine/core/device.h"
#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "tests/support/dataset_requirement.h"
#include "tests/support/image_files.h"
#include "tests/support/step_trace.h"
#include "tests/support/temp_folder.h"
#include "tests/support/tiny_image_run.h"
#include "train/image/image_config.h"
#include "train/image/image_experiment.h"
#include "train/image/image_run_loading.h"
#include "train/mog/mog_experiment.h"

namespace gantry {
namespace {

using testing::TempFolder;

#define GANTRY_SKIP_WITHOUT_CUDA()                                                  \
  do {                                                                              \
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device (or emulated one)"; \
  } while (0)

// The ResNet presets are 32x32 networks; the DCGAN-style ones train at 16x16 here.
bool is_resnet(const std::string& model) { return model == "sngan" || model == "sagan"; }
int64_t side_of(const std::string& model) { return is_resnet(model) ? 32 : 16; }

using LossTrace = testing::StepTrace;

// Relative to the loss's scale, with a floor for losses near zero (WGAN critics cross zero).
bool close(double a, double b, double tolerance) {
  return std::fabs(a - b) <= tolerance * std::max(1.0, std::fabs(b));
}

void expect_same_trace(const LossTrace& gpu, const LossTrace& cpu, double tolerance) {
  ASSERT_EQ(gpu.critic.size(), cpu.critic.size());
  ASSERT_FALSE(cpu.critic.empty());
  for (size_t i = 0; i < cpu.critic.size(); ++i) {
    EXPECT_TRUE(std::isfinite(gpu.critic[i]) && std::isfinite(gpu.generator[i])) << "step " << i + 1;
    EXPECT_TRUE(close(gpu.critic[i], cpu.critic[i], tolerance))
        << "step " << i + 1 << ": critic loss " << gpu.critic[i] << " on cuda, " << cpu.critic[i] << " on cpu";
    EXPECT_TRUE(close(gpu.generator[i], cpu.generator[i], tolerance))
        << "step " << i + 1 << ": generator loss " << gpu.generator[i] << " on cuda, " << cpu.generator[i]
        << " on cpu";
    EXPECT_EQ(gpu.k[i], cpu.k[i]) << "step " << i + 1;
  }
}

double max_abs(const Tensor& t) { return amax(abs(t.to(DType::f64))).item<double>(); }

// The names of each network's parameters in the order its optimiser holds them ("generator.", "critic.").
struct ParameterNames {
  std::vector<std::string> generator, critic;
};

ParameterNames image_parameter_names(const std::string& run_folder) {
  const image::LoadedImageRun run = image::load_image_run(run_folder, "run");
  ParameterNames names;
  for (const auto& [name, t] : run.nets.generator->named_parameters()) names.generator.push_back(name);
  for (const auto& [name, t] : run.nets.critic->named_parameters()) names.critic.push_back(name);
  return names;
}

using Checkpoint = std::map<std::string, Tensor>;

// Parameters whose gradient is zero but for rounding: a bias directly followed by BatchNorm (the
// normalisation subtracts it again). Adam divides their first moment by the square root of the
// second, so rounding noise of 1e-12 takes steps as large as real gradients do and the cuda and cpu
// runs move such a bias along different random walks. They are recognised on the CPU run as the
// slots whose first moment is below 1e-4 of the optimiser's largest one. Their weights are then
// compared relative to the network's largest weight and their moments relative to the optimiser's
// largest moment of that kind: a kernel bug in a real gradient still shows, the random walk does not.
std::set<std::string> noise_driven_tensors(const Checkpoint& cpu, const std::string& net,
                                           const std::vector<std::string>& parameter_names,
                                           std::map<std::string, double>* scale_of) {
  const std::string opt = net + "_optimizer.state.";
  std::map<std::string, double> largest;  // per moment kind, and "weight" for the network
  for (const std::string& name : parameter_names) {
    largest["weight"] = std::max(largest["weight"], max_abs(cpu.at(net + "." + name)));
  }
  std::vector<double> first_moment(parameter_names.size());
  for (size_t i = 0; i < parameter_names.size(); ++i) {
    for (const char* kind : {"exp_avg", "exp_avg_sq"}) {
      const std::string key = opt + std::to_string(i) + "." + kind;
      const auto it = cpu.find(key);
      if (it == cpu.end()) continue;
      EXPECT_EQ(it->second.shape(), cpu.at(net + "." + parameter_names[i]).shape())
          << key << " does not belong to " << parameter_names[i];
      const double m = max_abs(it->second);
      largest[kind] = std::max(largest[kind], m);
      if (std::string(kind) == "exp_avg") first_moment[i] = m;
    }
  }
  std::set<std::string> noisy;
  for (size_t i = 0; i < parameter_names.size(); ++i) {
    if (first_moment[i] >= 1e-4 * largest["exp_avg"]) continue;
    noisy.insert(net + "." + parameter_names[i]);
    (*scale_of)[net + "." + parameter_names[i]] = largest["weight"];
    for (const char* kind : {"exp_avg", "exp_avg_sq"}) {
      const std::string key = opt + std::to_string(i) + "." + kind;
      if (cpu.count(key)) {
        noisy.insert(key);
        (*scale_of)[key] = largest[kind];
      }
    }
  }
  return noisy;
}

// Every tensor of two checkpoints (weights, optimiser moments, buffers) agrees within `tolerance`
// relative to the tensor's largest magnitude; integer state (steps, RNG, data order) exactly. With
// `names`, parameters that only rounding noise drives are compared on their network's scale instead
// (noise_driven_tensors) and listed.
void expect_close_checkpoints(const std::string& gpu_file, const std::string& cpu_file, double tolerance,
                              const ParameterNames* names = nullptr) {
  const io::TensorFile gpu = io::load_safetensors(gpu_file), cpu = io::load_safetensors(cpu_file);
  ASSERT_EQ(gpu.tensors.size(), cpu.tensors.size());
  std::map<std::string, double> scale_of;
  std::set<std::string> noisy;
  if (names) {
    const Checkpoint cpu_map(cpu.tensors.begin(), cpu.tensors.end());
    noisy = noise_driven_tensors(cpu_map, "generator", names->generator, &scale_of);
    noisy.merge(noise_driven_tensors(cpu_map, "critic", names->critic, &scale_of));
    std::string list;
    for (const std::string& n : noisy) list += (list.empty() ? "" : ", ") + n;
    if (!noisy.empty()) std::printf("compared on their network's scale (rounding-driven): %s\n", list.c_str());
  }
  for (size_t i = 0; i < cpu.tensors.size(); ++i) {
    const auto& [name, c] = cpu.tensors[i];
    ASSERT_EQ(gpu.tensors[i].first, name);
    const Tensor& g = gpu.tensors[i].second;
    ASSERT_EQ(g.shape(), c.shape()) << name;
    ASSERT_EQ(g.dtype(), c.dtype()) << name;
    if (!is_floating(c.dtype())) {
      EXPECT_EQ(0, std::memcmp(g.raw_data(), c.raw_data(), c.nbytes())) << name << " differs between the cuda and cpu runs";
      continue;
    }
    const double scale = std::max(1e-6, noisy.count(name) ? scale_of.at(name) : max_abs(c));
    const double diff = max_abs(g - c);
    EXPECT_LE(diff, tolerance * scale) << name << ": largest difference " << diff << " (scale " << scale << ")";
  }
}

LossTrace train_image(const image::ImageTrainConfig& c) {
  LossTrace t;
  image::ImageRunOptions options;
  options.messages = nullptr;
  options.on_step = t.recorder();
  image::run_image_training(c, options);
  return t;
}

struct ImageCase {
  std::string model;
  std::string method;  // "", "topk", "coreset-prior"
};

void PrintTo(const ImageCase& c, std::ostream* os) { *os << c.model << (c.method.empty() ? "" : " " + c.method); }

std::string case_name(const ::testing::TestParamInfo<ImageCase>& info) {
  std::string name = info.param.model + (info.param.method.empty() ? "" : "_" + info.param.method);
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

class CudaImageTraining : public ::testing::TestWithParam<ImageCase> {};

// Three steps of the preset on cuda and on cpu from the same initial weights, data order and latents:
// the losses of every step and the final checkpoint agree. The 32x32 ResNet presets take two steps of
// one critic update at batch 2: on the CPU emulator each of their steps costs as much as a whole
// DCGAN-style case, and every kernel they use has run by then.
TEST_P(CudaImageTraining, StepsMatchTheCpu) {
  GANTRY_SKIP_WITHOUT_CUDA();
  TempFolder tmp("cuda_image");
  const std::string images = tmp.sub("images");
  testing::write_patterned_png_folder(images, 16, 32);
  const bool resnet = is_resnet(GetParam().model);
  const int64_t steps = resnet ? 2 : 3;
  image::ImageTrainConfig c =
      testing::tiny_image_run(images, tmp.sub("cpu"), steps, GetParam().model, side_of(GetParam().model));
  c.d_steps = std::min<int64_t>(c.d_steps, resnet ? 1 : 2);
  if (resnet) c.batch = 2;
  c.checkpoint_every = steps;
  if (GetParam().method == "topk") {
    c.selection = image::BatchSelection::top_k;
    c.nu = "2";
    c.decay_every = 1;  // k shrinks within the run, so the selected subset changes
  }
  if (GetParam().method == "coreset-prior") c.coreset_prior = true;
  const LossTrace cpu = train_image(c);
  c.device = "cuda";
  c.out = tmp.sub("cuda");
  const LossTrace gpu = train_image(c);
  expect_same_trace(gpu, cpu, 2e-3);
  const ParameterNames names = image_parameter_names(tmp.sub("cpu"));
  expect_close_checkpoints(tmp.sub("cuda") + "/" + image::kImageCheckpointFile,
                           tmp.sub("cpu") + "/" + image::kImageCheckpointFile, 1e-2, &names);
}

INSTANTIATE_TEST_SUITE_P(EveryPreset, CudaImageTraining,
                         ::testing::Values(ImageCase{"dcgan", ""}, ImageCase{"dcgan", "topk"},
                                           ImageCase{"dcgan", "coreset-prior"}, ImageCase{"msgan", ""},
                                           ImageCase{"wgan-gc", ""}, ImageCase{"wgan-gp", ""},
                                           ImageCase{"sngan", ""}, ImageCase{"sagan", ""}),
                         case_name);

// A run trained on cuda continues on the cpu from its checkpoint (tensors come back to the host).
TEST(CudaImageTrainingResume, CudaCheckpointResumesOnTheCpu) {
  GANTRY_SKIP_WITHOUT_CUDA();
  TempFolder tmp("cuda_resume");
  const std::string images = tmp.sub("images");
  testing::write_patterned_png_folder(images, 16, 16);
  image::ImageTrainConfig c = testing::tiny_image_run(images, tmp.sub("run"), 4, "dcgan", 16);
  c.d_steps = 1;
  c.checkpoint_every = 2;
  c.device = "cuda";
  image::ImageRunOptions first;
  first.messages = nullptr;
  first.stop_after = 2;
  EXPECT_EQ(image::run_image_training(c, first).steps_done, 2);
  c.device = "cpu";
  image::ImageRunOptions resume;
  resume.messages = nullptr;
  resume.resume = true;
  EXPECT_EQ(image::run_image_training(c, resume).steps_done, 4);
}

// The class-conditional SAGAN (conditional BatchNorm, projection critic) needs class labels: MNIST.
TEST(CudaImageTrainingConditional, ConditionalSaganMatchesTheCpu) {
  GANTRY_SKIP_WITHOUT_CUDA();
  GANTRY_SKIP_WITHOUT_DATASET("mnist");
  TempFolder tmp("cuda_conditional");
  image::ImageTrainConfig c = testing::tiny_image_run("mnist", tmp.sub("cpu"), 2, "sagan", 32);
  c.conditional = true;
  c.d_steps = 1;
  const LossTrace cpu = train_image(c);
  c.device = "cuda";
  c.out = tmp.sub("cuda");
  expect_same_trace(train_image(c), cpu, 2e-3);
}

LossTrace train_mog(const mog::MogTrainConfig& c, mog::MogRunResult* result) {
  LossTrace t;
  mog::MogRunOptions options;
  options.messages = nullptr;
  options.write_samples_png = false;
  options.on_step = t.recorder();
  *result = mog::run_mog_training(c, options);
  return t;
}

// The MoG trainer with top-k and core-sets on the prior and the data (greedy k-center on the device):
// 40 steps with one hidden layer match the CPU step by step, and so do the final metrics.
TEST(CudaMogTraining, RunMatchesTheCpu) {
  GANTRY_SKIP_WITHOUT_CUDA();
  TempFolder tmp("cuda_mog");
  mog::MogTrainConfig c;
  c.steps = 40;
  c.batch = 64;
  c.hidden_layers = 1;
  c.selection = mog::BatchSelection::top_k;
  c.decay_every = 5;
  c.coreset_prior = true;
  c.coreset_data = true;
  c.checkpoint_every = 40;
  c.eval_samples = 2000;
  c.out = tmp.sub("cpu");
  mog::MogRunResult cpu_result, gpu_result;
  const LossTrace cpu = train_mog(c, &cpu_result);
  c.device = "cuda";
  c.out = tmp.sub("cuda");
  const LossTrace gpu = train_mog(c, &gpu_result);
  expect_same_trace(gpu, cpu, 1e-3);
  EXPECT_NEAR(gpu_result.metrics.high_quality_percent, cpu_result.metrics.high_quality_percent, 2.0);
  EXPECT_NEAR(gpu_result.metrics.modes_recovered, cpu_result.metrics.modes_recovered, 1.0);
  expect_close_checkpoints(tmp.sub("cuda") + "/" + mog::kCheckpointFile, tmp.sub("cpu") + "/" + mog::kCheckpointFile,
                           1e-2);
}

}  // namespace
}  // namespace gantry
