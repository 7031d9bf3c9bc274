#pragma once
// The engine's gradient checker (one harness for every op, on every device).
//
// gradcheck(fn, inputs): with fixed random weights w of fn's output shape, compares the autograd
// gradient of L = sum(fn(x) * w) w.r.t. every input that requires grad with central finite
// differences in float64, element by element: |analytic - numeric| <= atol + rtol |numeric|.
// gradgradcheck(fn, inputs): runs gradcheck on x -> sum_i <dL/dx_i, v_i> (grad built with
// create_graph), i.e. checks the Hessian-vector products that double backward gives.
// gradcheck_parameters(loss, params): the same comparison for tensors that a scalar loss() reads
// without taking them as arguments (a module's parameters), perturbing them in place and restoring
// them; loss() must be deterministic (e.g. a spectrally normalised layer in eval mode).
//
// On the CPU emulator of the CUDA device (cuda_device_is_emulated()), where every evaluation runs
// the kernels thread by thread, tensors on the device are checked at `emulated_elements` positions
// spread evenly over each (its first and last included) instead of at every element; the CPU instance
// of the same test, and a real GPU, check them all.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <vector>

#include "engine/ops/ops.h"

namespace gantry::testing {

struct GradCheckOptions {
  double eps = 1e-6;
  double rtol = 1e-3;
  double atol = 1e-5;
  // Skip elements whose input value lies within kink_range of a kink (non-differentiable point).
  std::vector<double> kinks;
  double kink_range = 1e-3;
  uint64_t seed = 1234;
  int64_t emulated_elements = 32;
};

using TensorFn = std::function<Tensor(const TensorList&)>;

// `inputs` must be float64; those with requires_grad set are checked. Inputs may live on any device.
::testing::AssertionResult gradcheck(const TensorFn& fn, const TensorList& inputs,
                                     const GradCheckOptions& options = {});
::testing::AssertionResult gradgradcheck(const TensorFn& fn, const TensorList& inputs,
                                         const GradCheckOptions& options = {});
::testing::AssertionResult gradcheck_parameters(const std::function<Tensor()>& loss, const TensorList& params,
                                                const GradCheckOptions& options = {});

}  // namespace gantry::testing
