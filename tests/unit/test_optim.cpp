// Adam and SGD against hand-written double-precision references of PyTorch's update rules, plus
// state_dict round trips that must resume bit-identically.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/ops/ops.h"
#include "engine/optim/adam.h"
#include "engine/optim/sgd.h"
#include "tests/support/test_util.h"
#include "tests/unit/optimizer_test_helpers.h"

namespace gantry {
namespace {

using testing::expect_bit_identical_resume;
using testing::expect_device_steps_match_cpu;
using testing::expect_load_error;
using testing::expect_vec_near;
using testing::grad_at;
using testing::param_from;
using testing::Vec;

struct AdamReference {
  explicit AdamReference(const optim::AdamOptions& options) : o(options) {}
  optim::AdamOptions o;
  Vec m, v, vmax;
  int t = 0;
  void step(Vec& p, const Vec& grad) {
    if (m.empty()) m = v = vmax = Vec(p.size(), 0.0);
    ++t;
    const double bc1 = 1 - std::pow(o.beta1, t), bc2 = 1 - std::pow(o.beta2, t);
    for (size_t i = 0; i < p.size(); ++i) {
      const double g = grad[i] + o.weight_decay * p[i];
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g;
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g * g;
      vmax[i] = std::max(vmax[i], v[i]);
      const double second = o.amsgrad ? vmax[i] : v[i];
      p[i] -= (o.lr / bc1) * m[i] / (std::sqrt(second) / std::sqrt(bc2) + o.eps);
    }
  }
};

void run_adam_against_reference(const optim::AdamOptions& o) {
  Vec ref = {0.5, -1.25, 2.0, 0.75, -0.3};
  Tensor p = param_from(ref);
  optim::Adam adam({p}, o);
  AdamReference reference{o};
  for (int s = 0; s < 6; ++s) {
    const Vec g = grad_at(s, ref.size(), 0.8);
    p.set_grad(from_vector(g, {5}));
    adam.step();
    reference.step(ref, g);
    expect_vec_near(to_vector<double>(p), ref, 1e-12);
  }
  EXPECT_EQ(adam.step_count(0), 6);
  expect_vec_near(to_vector<double>(adam.exp_avg(0)), reference.m, 1e-12);
  expect_vec_near(to_vector<double>(adam.exp_avg_sq(0)), reference.v, 1e-12);
}

TEST(Adam, MatchesReference) { run_adam_against_reference({0.01, 0.9, 0.999, 1e-8, 0, false}); }
TEST(Adam, WeightDecayMatchesReference) { run_adam_against_reference({0.02, 0.5, 0.99, 1e-6, 0.1, false}); }
TEST(Adam, AmsgradMatchesReference) { run_adam_against_reference({0.05, 0.8, 0.9, 1e-8, 0.01, true}); }

TEST(Adam, AmsgradDiffersFromAdamWhenSecondMomentShrinks) {
  // A guard that the AMSGrad branch is exercised: with shrinking gradients the two differ.
  Tensor a = param_from({1.0, 2.0}), b = param_from({1.0, 2.0});
  optim::Adam plain({a}, {0.05, 0.8, 0.9, 1e-8, 0, false}), ams({b}, {0.05, 0.8, 0.9, 1e-8, 0, true});
  for (int s = 0; s < 5; ++s) {
    a.set_grad(from_vector(grad_at(s, 2, 1.0), {2}));
    b.set_grad(from_vector(grad_at(s, 2, 1.0), {2}));
    plain.step();
    ams.step();
  }
  EXPECT_GT(std::abs(to_vector<double>(a)[0] - to_vector<double>(b)[0]), 1e-4);
}

TEST(Adam, Float32FollowsTheDoubleReferenceClosely) {
  Vec ref = {0.5, -1.25, 2.0};
  Tensor p = from_vector(std::vector<float>{0.5f, -1.25f, 2.0f}, {3});
  p.set_requires_grad(true);
  optim::AdamOptions o{0.01, 0.9, 0.999, 1e-8, 0, false};
  optim::Adam adam({p}, o);
  AdamReference reference{o};
  for (int s = 0; s < 4; ++s) {
    const Vec g = grad_at(s, 3, 0.7);
    p.set_grad(from_vector(std::vector<float>(g.begin(), g.end()), {3}));
    adam.step();
    reference.step(ref, g);
  }
  const std::vector<float> got = to_vector<float>(p);
  for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(got[i], ref[i], 1e-6 * std::abs(ref[i]) + 1e-7);
}

TEST(Adam, ParametersWithoutGradientAreSkipped) {
  Tensor a = param_from({1.0, 2.0}), b = param_from({3.0, 4.0});
  optim::Adam adam({a, b});
  a.set_grad(from_vector(Vec{0.5, -0.5}, {2}));
  adam.step();
  EXPECT_EQ(adam.step_count(0), 1);
  EXPECT_EQ(adam.step_count(1), 0);
  EXPECT_EQ(to_vector<double>(b), (Vec{3.0, 4.0}));
  EXPECT_NE(to_vector<double>(a), (Vec{1.0, 2.0}));
  adam.zero_grad();
  EXPECT_FALSE(a.grad().defined());
}

TEST(Adam, NonContiguousGradientIsAccepted) {
  // Autograd can produce expanded (stride-0) gradients, e.g. from a sum.
  Tensor p = param_from({1.0, 2.0, 3.0, 4.0});
  Tensor q = param_from({1.0, 2.0, 3.0, 4.0});
  const Tensor expanded = from_vector(Vec{0.25}, {1}).expand({4});
  ASSERT_FALSE(expanded.is_contiguous());
  p.set_grad(expanded);
  q.set_grad(from_vector(Vec{0.25, 0.25, 0.25, 0.25}, {4}));
  optim::Adam a({p}), b({q});
  a.step();
  b.step();
  EXPECT_EQ(to_vector<double>(p), to_vector<double>(q));
  EXPECT_NE(to_vector<double>(p), (Vec{1.0, 2.0, 3.0, 4.0}));
}

TEST(Optimizer, BadInputsThrow) {
  Tensor p = param_from({1.0, 2.0});
  EXPECT_THROW(optim::Adam({}, {}), Error);
  EXPECT_THROW(optim::Adam({p}, {-1.0}), Error);
  EXPECT_THROW(optim::Adam({p}, {1e-3, 1.0}), Error);
  EXPECT_THROW(optim::Adam({p, p}), Error);
  EXPECT_THROW(optim::SGD({p}, {0.1, 0.0, 0.0, 0.0, true}), Error);
  optim::Adam adam({p});
  p.set_grad(from_vector(Vec{1.0, 2.0, 3.0}, {3}));
  EXPECT_THROW(adam.step(), Error);
}

struct SGDReference {
  explicit SGDReference(const optim::SGDOptions& options) : o(options) {}
  optim::SGDOptions o;
  Vec buf;
  void step(Vec& p, const Vec& grad) {
    const bool first = buf.empty();
    if (first) buf = Vec(p.size(), 0.0);
    for (size_t i = 0; i < p.size(); ++i) {
      double d = grad[i] + o.weight_decay * p[i];
      if (o.momentum != 0) {
        buf[i] = first ? d : o.momentum * buf[i] + (1 - o.dampening) * d;
        d = o.nesterov ? d + o.momentum * buf[i] : buf[i];
      }
      p[i] -= o.lr * d;
    }
  }
};

void run_sgd_against_reference(const optim::SGDOptions& o) {
  Vec ref = {0.5, -1.25, 2.0, 0.75};
  Tensor p = param_from(ref);
  optim::SGD sgd({p}, o);
  SGDReference reference{o};
  for (int s = 0; s < 5; ++s) {
    const Vec g = grad_at(s, ref.size(), 1.1);
    p.set_grad(from_vector(g, {4}));
    sgd.step();
    reference.step(ref, g);
    expect_vec_near(to_vector<double>(p), ref, 1e-13);
  }
}

TEST(SGD, PlainMatchesReference) { run_sgd_against_reference({0.1, 0, 0, 0, false}); }
TEST(SGD, MomentumDampeningWeightDecayMatchReference) { run_sgd_against_reference({0.1, 0.9, 0.25, 0.05, false}); }
TEST(SGD, NesterovMatchesReference) { run_sgd_against_reference({0.05, 0.8, 0, 0.01, true}); }

TEST(Adam, StateDictResumesBitIdentically) {
  expect_bit_identical_resume<optim::Adam>(optim::AdamOptions{0.03, 0.5, 0.99, 1e-8, 0.01, true});
}
TEST(SGD, StateDictResumesBitIdentically) {
  expect_bit_identical_resume<optim::SGD>(optim::SGDOptions{0.05, 0.9, 0.1, 0.01, false});
}

// One optimizer over parameters of different shapes: every device's multi-tensor step must agree
// with the CPU's.
class OptimizerOnDevice : public testing::DeviceTest {};
GANTRY_INSTANTIATE_DEVICE_TEST(OptimizerOnDevice);

TEST_P(OptimizerOnDevice, AdamOverParametersOfDifferentShapesMatchesTheCpu) {
  expect_device_steps_match_cpu<optim::Adam>(device(), optim::AdamOptions{0.01, 0.9, 0.999, 1e-8, 0.01, true});
}

TEST_P(OptimizerOnDevice, SgdOverParametersOfDifferentShapesMatchesTheCpu) {
  expect_device_steps_match_cpu<optim::SGD>(device(), optim::SGDOptions{0.1, 0.9, 0.1, 0.01, false});
}

TEST(Adam, LoadStateDictRejectsBadState) {
  Tensor p = param_from({1.0, 2.0});
  optim::Adam adam({p});
  p.set_grad(from_vector(Vec{0.5, 0.25}, {2}));
  adam.step();
  const optim::OptimizerState good = adam.state_dict();
  Tensor other = param_from({1.0, 2.0, 3.0});
  optim::Adam wrong_shape({other});
  expect_load_error(wrong_shape, good, "has shape [2] but parameter 0 has shape [3]");
  optim::OptimizerState extra = good;
  extra.emplace_back("state.5.exp_avg", ones({2}));
  expect_load_error(adam, extra, "unexpected key 'state.5.exp_avg'");
  optim::OptimizerState missing;
  for (const auto& kv : good)
    if (kv.first != "state.0.exp_avg_sq") missing.push_back(kv);
  expect_load_error(adam, missing, "missing key 'state.0.exp_avg_sq'");
  // A failed load leaves the optimiser as it was.
  EXPECT_EQ(adam.step_count(0), 1);
}

}  // namespace
}  // namespace gantry
