#include "tests/support/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

#include "engine/core/cuda_emulation.h"

namespace gantry::testing {
namespace {

// The element indices of an n-element tensor on `device` that finite differences check: all of them,
// or on the emulated CUDA device `limit` spread evenly (first and last included).
std::vector<size_t> checked_elements(size_t n, Device device, int64_t limit) {
  std::vector<size_t> out;
  const size_t m = static_cast<size_t>(std::max<int64_t>(limit, 2));
  if (!(device.is_cuda() && cuda_device_is_emulated()) || n <= m) {
    for (size_t j = 0; j < n; ++j) out.push_back(j);
    return out;
  }
  for (size_t k = 0; k < m; ++k) out.push_back(k * (n - 1) / (m - 1));
  return out;
}

Tensor fixed_weights(const Shape& shape, uint64_t seed, Device device) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> dist(0.5, 1.5);  // away from 0, mixed magnitudes
  std::bernoulli_distribution flip(0.5);
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (double& x : v) x = flip(gen) ? dist(gen) : -dist(gen);
  return from_vector(v, shape).to(device);
}

// Fresh leaves with the same values (so perturbations never touch the caller's tensors).
TensorList fresh_inputs(const std::vector<std::vector<double>>& host, const TensorList& like) {
  TensorList out;
  for (size_t i = 0; i < like.size(); ++i) {
    Tensor t = from_vector(host[i], like[i].shape()).to(like[i].device());
    if (like[i].requires_grad()) t.set_requires_grad(true);
    out.push_back(t);
  }
  return out;
}

}  // namespace

::testing::AssertionResult gradcheck(const TensorFn& fn, const TensorList& inputs, const GradCheckOptions& opt) {
  std::vector<std::vector<double>> host;
  TensorList checked;
  std::vector<size_t> checked_index;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].dtype() != DType::f64)
      return ::testing::AssertionFailure() << "gradcheck: input " << i << " must be float64, got "
                                           << dtype_name(inputs[i].dtype());
    host.push_back(to_vector<double>(inputs[i]));
  }
  TensorList x = fresh_inputs(host, inputs);
  for (size_t i = 0; i < x.size(); ++i)
    if (x[i].requires_grad()) {
      checked.push_back(x[i]);
      checked_index.push_back(i);
    }
  if (checked.empty()) return ::testing::AssertionFailure() << "gradcheck: no input requires grad";

  const Tensor out = fn(x);
  if (!out.requires_grad()) return ::testing::AssertionFailure() << "gradcheck: output does not require grad";
  const Tensor w = fixed_weights(out.shape(), opt.seed, out.device());
  const Tensor loss = sum(mul(out, w));
  TensorList analytic = autograd::grad({loss}, checked, {}, false, -1, true);

  // Evaluated with grad mode on: gradgradcheck's function itself calls autograd::grad.
  auto eval = [&](const std::vector<std::vector<double>>& values) {
    TensorList xi = fresh_inputs(values, inputs);
    return sum(mul(fn(xi), w)).item<double>();
  };

  std::ostringstream failures;
  int n_fail = 0, n_checked = 0;
  for (size_t c = 0; c < checked.size(); ++c) {
    const size_t i = checked_index[c];
    const std::vector<double> a = analytic[c].defined() ? to_vector<double>(analytic[c])
                                                        : std::vector<double>(host[i].size(), 0.0);
    for (const size_t j : checked_elements(host[i].size(), inputs[i].device(), opt.emulated_elements)) {
      bool near_kink = false;
      for (double k : opt.kinks)
        if (std::abs(host[i][j] - k) < opt.kink_range) near_kink = true;
      if (near_kink) continue;
      auto plus = host, minus = host;
      plus[i][j] += opt.eps;
      minus[i][j] -= opt.eps;
      const double numeric = (eval(plus) - eval(minus)) / (2 * opt.eps);
      ++n_checked;
      if (!(std::abs(a[j] - numeric) <= opt.atol + opt.rtol * std::abs(numeric))) {
        if (n_fail++ < 8)
          failures << "\n  input " << i << " element " << j << ": analytic " << a[j] << ", numeric " << numeric;
      }
    }
  }
  if (n_checked == 0) return ::testing::AssertionFailure() << "gradcheck: every element was skipped as a kink";
  if (n_fail == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "gradcheck: " << n_fail << " of " << n_checked
                                       << " gradient elements differ from finite differences" << failures.str();
}

::testing::AssertionResult gradgradcheck(const TensorFn& fn, const TensorList& inputs,
                                         const GradCheckOptions& opt) {
  // Directions v_i for the Hessian-vector product, fixed per input.
  TensorList directions;
  for (size_t i = 0; i < inputs.size(); ++i)
    directions.push_back(fixed_weights(inputs[i].shape(), opt.seed + 17 + i, inputs[i].device()));
  const TensorFn first_order = [&](const TensorList& x) {
    const Tensor out = fn(x);
    const Tensor w = fixed_weights(out.shape(), opt.seed + 1, out.device());
    TensorList wrt;
    std::vector<size_t> idx;
    for (size_t i = 0; i < x.size(); ++i)
      if (x[i].requires_grad()) {
        wrt.push_back(x[i]);
        idx.push_back(i);
      }
    TensorList g = autograd::grad({sum(mul(out, w))}, wrt, {}, /*create_graph=*/true, -1, true);
    Tensor total = zeros({}, DType::f64, out.device());
    for (size_t c = 0; c < g.size(); ++c)
      if (g[c].defined()) total = add(total, sum(mul(g[c], directions[idx[c]])));
    return total;
  };
  return gradcheck(first_order, inputs, opt);
}

::testing::AssertionResult gradcheck_parameters(const std::function<Tensor()>& loss, const TensorList& params,
                                                const GradCheckOptions& opt) {
  if (params.empty()) return ::testing::AssertionFailure() << "gradcheck_parameters: no parameters";
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].dtype() != DType::f64 || !params[i].requires_grad())
      return ::testing::AssertionFailure() << "gradcheck_parameters: parameter " << i
                                           << " must be float64 and require grad";
  const Tensor l = loss();
  if (l.numel() != 1) return ::testing::AssertionFailure() << "gradcheck_parameters: loss must be a scalar";
  const TensorList analytic = autograd::grad({l}, params, {}, false, -1, true);

  const auto set = [](const Tensor& p, const std::vector<double>& values) {
    NoGradGuard no_grad;
    Tensor handle = p;
    copy_(handle, from_vector(values, p.shape()).to(p.device()));
  };
  std::ostringstream failures;
  int n_fail = 0, n_checked = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const std::vector<double> host = to_vector<double>(params[i]);
    const std::vector<double> a = analytic[i].defined() ? to_vector<double>(analytic[i])
                                                        : std::vector<double>(host.size(), 0.0);
    for (const size_t j : checked_elements(host.size(), params[i].device(), opt.emulated_elements)) {
      bool near_kink = false;
      for (double k : opt.kinks)
        if (std::abs(host[j] - k) < opt.kink_range) near_kink = true;
      if (near_kink) continue;
      std::vector<double> moved = host;
      moved[j] = host[j] + opt.eps;
      set(params[i], moved);
      const double plus = loss().item<double>();
      moved[j] = host[j] - opt.eps;
      set(params[i], moved);
      const double minus = loss().item<double>();
      set(params[i], host);
      const double numeric = (plus - minus) / (2 * opt.eps);
      ++n_checked;
      if (!(std::abs(a[j] - numeric) <= opt.atol + opt.rtol * std::abs(numeric))) {
        if (n_fail++ < 8)
          failures << "\n  parameter " << i << " element " << j << ": analytic " << a[j] << ", numeric " << numeric;
      }
    }
  }
  if (n_checked == 0) return ::testing::AssertionFailure() << "gradcheck_parameters: every element was skipped";
  if (n_fail == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "gradcheck_parameters: " << n_fail << " of " << n_checked
                                       << " gradient elements differ from finite differences" << failures.str();
}

}  // namespace gantry::testing
