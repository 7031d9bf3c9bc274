#pragma once
// Helpers of the optimiser suites: 1-D parameters from values, a deterministic gradient sequence,
// the bit-identical resume check through safetensors bytes, and the device-vs-CPU step check.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "engine/optim/optimizer.h"
#include "tests/support/test_util.h"

namespace gantry::testing {

using Vec = std::vector<double>;

inline Tensor param_from(const Vec& v) {
  Tensor p = from_vector(v, {static_cast<int64_t>(v.size())});
  p.set_requires_grad(true);
  return p;
}

// Gradients that change sign and shrink over steps (so AMSGrad's max differs from v).
inline Vec grad_at(int step, size_t n, double base) {
  Vec g(n);
  for (size_t i = 0; i < n; ++i) g[i] = base * std::pow(0.5, step) * (i % 2 ? -1.0 : 1.0) * (1.0 + 0.3 * i);
  return g;
}

inline void expect_vec_near(const Vec& got, const Vec& want, double rtol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], rtol * (std::abs(want[i]) + 1e-12)) << i;
}

// Runs `steps` steps with the deterministic gradient sequence starting at `first_step`.
template <typename Opt>
void run_steps(Opt& opt, Tensor& p, int first_step, int steps) {
  for (int s = first_step; s < first_step + steps; ++s) {
    p.set_grad(from_vector(grad_at(s, 3, 0.9), {3}));
    opt.step();
  }
}

// Six steps straight must equal three steps, a state_dict round trip through safetensors bytes (as a
// checkpoint would) into a default-constructed optimiser, and three more steps: bit for bit.
template <typename Opt, typename Options>
void expect_bit_identical_resume(const Options& options) {
  Tensor straight = param_from({0.3, -0.7, 1.1});
  Opt a({straight}, options);
  run_steps(a, straight, 0, 6);

  Tensor first = param_from({0.3, -0.7, 1.1});
  Opt b({first}, options);
  run_steps(b, first, 0, 3);
  const io::TensorFile file = io::parse_safetensors(io::serialize_safetensors(b.state_dict()));
  Tensor resumed = param_from(to_vector<double>(first));
  Opt c({resumed}, Options{});
  c.load_state_dict(file.tensors);
  run_steps(c, resumed, 3, 3);
  EXPECT_EQ(to_vector<double>(resumed), to_vector<double>(straight));
}

inline void expect_load_error(optim::Optimizer& opt, const optim::OptimizerState& st, const std::string& needle) {
  try {
    opt.load_state_dict(st);
    ADD_FAILURE() << "expected an error containing " << needle;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

// One optimiser over parameters of different shapes: every device's multi-tensor step must agree
// with the CPU's, in float64, over three steps of random gradients.
template <typename Optimizer, typename Options>
void expect_device_steps_match_cpu(Device device, const Options& options) {
  const Shape shapes[] = {{3, 4}, {5}, {2, 1, 3}};
  std::vector<Tensor> cpu_params, device_params;
  uint64_t seed = 40;
  for (const Shape& shape : shapes) {
    const Tensor init = random_uniform(shape, ++seed, -1, 1, DType::f64);
    cpu_params.push_back(init.clone());
    device_params.push_back(init.to(device));
  }
  for (Tensor& p : cpu_params) p.set_requires_grad(true);
  for (Tensor& p : device_params) p.set_requires_grad(true);
  Optimizer on_cpu(cpu_params, options), on_device(device_params, options);
  for (int step = 0; step < 3; ++step) {
    for (size_t i = 0; i < cpu_params.size(); ++i) {
      const Tensor g = random_uniform(cpu_params[i].shape(), 100 + step * 10 + i, -1, 1, DType::f64);
      cpu_params[i].set_grad(g);
      device_params[i].set_grad(g.to(device));
    }
    on_cpu.step();
    on_device.step();
    for (size_t i = 0; i < cpu_params.size(); ++i)
      EXPECT_TRUE(all_close(device_params[i].to(kCPU), cpu_params[i], 1e-12, 1e-12))
          << "parameter " << i << " after step " << step;
  }
}

}  // namespace gantry::testing
