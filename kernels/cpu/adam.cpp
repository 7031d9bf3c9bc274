// Fused CPU Adam/AMSGrad update with PyTorch's arithmetic (torch.optim.Adam, single-tensor path):
//   g = grad + wd * p;  m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
//   vmax = max(vmax, v) (amsgrad);  denom = sqrt(v or vmax) / sqrt(1 - beta2^t) + eps
//   p = p - (lr / (1 - beta1^t)) m / denom
// Scalars are computed in double and rounded to the parameter type, as PyTorch does.
#include <algorithm>
#include <cmath>

#include "engine/dispatch/optim_kernels.h"

namespace gantry::cpu {
namespace {

// The per-element loop is instantiated per option combination so it has no branches and vectorises.
template <typename T, bool kDecay, bool kAmsgrad>
void adam_loop(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
               T* __restrict vmax, T wd, T beta1, T one_minus_beta1, T beta2, T one_minus_beta2,
               T neg_step_size, T bias_correction2_sqrt, T eps) {
  for (int64_t i = 0; i < n; ++i) {
    const T gi = kDecay ? g[i] + wd * p[i] : g[i];
    const T mi = m[i] * beta1 + one_minus_beta1 * gi;
    const T vi = v[i] * beta2 + one_minus_beta2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    T second = vi;
    if constexpr (kAmsgrad) {
      second = std::max(vmax[i], vi);
      vmax[i] = second;
    }
    const T denom = std::sqrt(second) / bias_correction2_sqrt + eps;
    p[i] = p[i] + neg_step_size * mi / denom;
  }
}

template <typename T>
void adam_one(const AdamHyper& h, AdamSlot& s) {
  T* p = s.param.data_ptr<T>();
  const T* g = s.grad.data_ptr<T>();
  T* m = s.exp_avg.data_ptr<T>();
  T* v = s.exp_avg_sq.data_ptr<T>();
  T* vmax = h.amsgrad ? s.max_exp_avg_sq.data_ptr<T>() : nullptr;
  const double t = static_cast<double>(s.step);
  const T wd = static_cast<T>(h.weight_decay);
  const T beta1 = static_cast<T>(h.beta1), one_minus_beta1 = static_cast<T>(1.0 - h.beta1);
  const T beta2 = static_cast<T>(h.beta2), one_minus_beta2 = static_cast<T>(1.0 - h.beta2);
  const T neg_step_size = static_cast<T>(-(h.lr / (1.0 - std::pow(h.beta1, t))));
  const T bias_correction2_sqrt = static_cast<T>(std::sqrt(1.0 - std::pow(h.beta2, t)));
  const T eps = static_cast<T>(h.eps);
  const int64_t n = s.param.numel();
  const bool decay = h.weight_decay != 0;
  auto run = [&](auto loop) {
    loop(n, p, g, m, v, vmax, wd, beta1, one_minus_beta1, beta2, one_minus_beta2, neg_step_size,
         bias_correction2_sqrt, eps);
  };
  if (decay && vmax) run(adam_loop<T, true, true>);
  else if (decay) run(adam_loop<T, true, false>);
  else if (vmax) run(adam_loop<T, false, true>);
  else run(adam_loop<T, false, false>);
}

void adam(const AdamHyper& h, std::vector<AdamSlot>& slots) {
  for (AdamSlot& s : slots)
    dispatch_floating(s.param.dtype(), "adam", [&](auto tag) { adam_one<typename decltype(tag)::type>(h, s); });
}

}  // namespace

GANTRY_REGISTER_KERNEL(adam_kernel, CPU, &adam);

}  // namespace gantry::cpu
