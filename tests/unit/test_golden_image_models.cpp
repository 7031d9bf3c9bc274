// The image GAN models built by name (models/image_gan_models.h) against PyTorch references at small
// widths (tests/golden/make_image_models_golden.py, float64; run in float64 and float32): state-dict
// names, order and shapes, then
// one training step — fake images, critic scores, losses (NS, hinge, or Wasserstein with a gradient
// penalty), the gradient of every parameter of both networks, the spectral-norm u/v vectors after
// the critic's first training forward, and every buffer after the step.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/ops/ops.h"
#include "models/image_gan_models.h"
#include "tests/support/golden_file.h"

namespace gantry {
namespace {

struct GoldenCase {
  std::string file;  // tests/data/image_models_<file>_golden.safetensors
  std::string model;
  int64_t generator_width, critic_width;
  DType dtype;
  double rtol;
};
void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.file << " " << dtype_name(c.dtype); }

class GoldenImageModels : public ::testing::TestWithParam<GoldenCase> {
 protected:
  void SetUp() override {
    golden_ = testing::GoldenFile("image_models_" + GetParam().file + "_golden.safetensors");
    Generator gen(0);  // any init: the golden state is loaded over it
    models_ = models::make_image_gan_models({.model = GetParam().model,
                                             .num_classes = golden_.meta_int("num_classes"),
                                             .latent_dim = golden_.meta_int("latent_dim"),
                                             .generator_width = GetParam().generator_width,
                                             .critic_width = GetParam().critic_width},
                                            gen, GetParam().dtype);
  }

  const Tensor& g(const std::string& name) const { return golden_.tensor(name); }
  // A golden input in the precision under test.
  Tensor input(const std::string& name) const { return g(name).to(GetParam().dtype); }
  Tensor labels() const { return golden_.meta_int("num_classes") > 0 ? g("labels") : Tensor(); }
  ::testing::AssertionResult matches(const Tensor& actual, const std::string& name) const {
    return golden_.matches(actual, name, GetParam().rtol);
  }
  // Gradients of `loss` w.r.t. every parameter of `m` against "grad.<prefix><name>" (unused: zeros).
  // Gradients are sums in which large terms cancel (a bias that a training-mode batch norm follows
  // gets exactly zero in theory), so their rounding error follows the network's gradient scale, not
  // their own: each is matched at rtol of its own scale or of 1% of the network's largest gradient,
  // whichever is larger; one below 1e-4 of the network's largest is zero up to rounding and must be
  // zero to rtol of the network's largest.
  void expect_gradients(const Tensor& loss, const nn::Module& m, const std::string& prefix) const {
    const nn::NamedTensors params = m.named_parameters();
    TensorList leaves;
    double network_scale = 0;
    for (const auto& [name, p] : params) {
      leaves.push_back(p);
      network_scale = std::max(network_scale, max_abs(g("grad." + prefix + name)));
    }
    const TensorList grads = autograd::grad({loss}, leaves, {}, false, -1, /*allow_unused=*/true);
    for (size_t i = 0; i < params.size(); ++i) {
      const std::string name = "grad." + prefix + params[i].first;
      const double floor = max_abs(g(name)) < 1e-4 * network_scale ? network_scale : 0.01 * network_scale;
      EXPECT_TRUE(golden_.matches(grads[i].defined() ? grads[i] : zeros_like(leaves[i]), name, GetParam().rtol, floor));
    }
  }
  static double max_abs(const Tensor& t) {
    double m = 0;
    for (double v : to_vector<double>(t.to(DType::f64))) m = std::max(m, std::abs(v));
    return m;
  }
  void expect_buffers(const nn::Module& m, const std::string& prefix) const {
    for (const auto& [name, b] : m.named_buffers()) EXPECT_TRUE(matches(b, prefix + name));
  }

  testing::GoldenFile golden_;
  models::ImageGanModels models_;
};

TEST_P(GoldenImageModels, StateDictHasTorchNamesAndShapes) {
  std::vector<std::string> torch_names, ours;
  for (const auto& [name, t] : golden_.contents().tensors)
    if (name.rfind("G.", 0) == 0 || name.rfind("D.", 0) == 0) torch_names.push_back(name);
  for (const auto& [prefix, module] : {std::pair<std::string, nn::Module*>{"G.", models_.generator.get()},
                                       std::pair<std::string, nn::Module*>{"D.", models_.critic.get()}}) {
    for (const auto& [name, t] : module->state_dict()) {
      ours.push_back(prefix + name);
      const bool in_torch = std::find(torch_names.begin(), torch_names.end(), prefix + name) != torch_names.end();
      if (in_torch) {
        EXPECT_EQ(t.shape(), g(prefix + name).shape()) << prefix << name;
      }
    }
  }
  EXPECT_EQ(ours, torch_names);
}

TEST_P(GoldenImageModels, TrainingStepMatchesTorch) {
  golden_.load_into(*models_.generator, "G.");
  golden_.load_into(*models_.critic, "D.");
  const std::string loss = golden_.meta("loss");
  const Tensor y = labels();

  const Tensor fake = models_.generate(input("z"), y);
  EXPECT_TRUE(matches(fake, "fake"));
  const Tensor score_real = models_.score(input("real"), y);
  EXPECT_TRUE(matches(score_real, "score.real"));
  expect_buffers(*models_.critic, "after_first_forward.D.");
  const Tensor score_fake = models_.score(fake.detach(), y);
  EXPECT_TRUE(matches(score_fake, "score.fake"));
  Tensor loss_d = loss == "ns"      ? ns_d_loss(score_real, score_fake)
                  : loss == "hinge" ? hinge_d_loss(score_real, score_fake)
                                    : wasserstein_d_loss(score_real, score_fake);
  const double gp_weight = golden_.meta_double("gradient_penalty");
  if (gp_weight > 0) {
    const Tensor real = input("real");
    const Tensor mix = add(real, mul(input("gp.alpha"), sub(fake.detach(), real))).detach().set_requires_grad(true);
    const Tensor dx = autograd::grad({sum(models_.score(mix, y))}, {mix}, {}, /*create_graph=*/true)[0];
    const Tensor penalty = mean(pow(sub(norm(dx.flatten(1), 2.0, {1}), 1.0), 2.0));
    EXPECT_TRUE(matches(penalty, "gp.value"));
    loss_d = add(loss_d, mul(penalty, gp_weight));
  }
  EXPECT_TRUE(matches(loss_d, "loss.D"));
  expect_gradients(loss_d, *models_.critic, "D.");

  const Tensor fake_score = models_.score(fake, y);
  const Tensor loss_g = loss == "ns" ? ns_g_loss(fake_score) : neg(mean(fake_score));
  EXPECT_TRUE(matches(loss_g, "loss.G"));
  expect_gradients(loss_g, *models_.generator, "G.");
  expect_buffers(*models_.generator, "after.G.");
  expect_buffers(*models_.critic, "after.D.");
}

// Every case in float64 (to rounding) and float32 (the golden rule of the other suites).
std::vector<GoldenCase> golden_cases() {
  const std::vector<GoldenCase> models = {
      {"dcgan", "dcgan", 4, 4, DType::f64, 0}, {"wgan_gp", "wgan-gp", 4, 4, DType::f64, 0},
      {"sngan", "sngan", 8, 8, DType::f64, 0}, {"sngan_cond", "sngan", 8, 8, DType::f64, 0},
      {"sagan", "sagan", 8, 8, DType::f64, 0}, {"sagan_cond", "sagan", 8, 8, DType::f64, 0}};
  std::vector<GoldenCase> out;
  for (const auto& [dtype, rtol] : {std::pair{DType::f64, 1e-10}, std::pair{DType::f32, 1e-5}})
    for (GoldenCase c : models) {
      c.dtype = dtype;
      c.rtol = rtol;
      out.push_back(c);
    }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Models, GoldenImageModels, ::testing::ValuesIn(golden_cases()),
                         [](const ::testing::TestParamInfo<GoldenCase>& info) {
                           return info.param.file + "_" + dtype_name(info.param.dtype);
                         });

}  // namespace
}  // namespace gantry
