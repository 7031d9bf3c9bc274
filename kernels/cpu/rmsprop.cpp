// Fused CPU RMSprop update with PyTorch's arithmetic (torch.optim.RMSprop, single-tensor path):
//   g = grad + wd * p;  v = alpha v + (1 - alpha) g^2
//   centered: a = alpha a + (1 - alpha) g;  avg = sqrt(v - a^2) + eps   (else avg = sqrt(v) + eps)
//   momentum > 0: buf = momentum buf + g / avg;  p = p - lr buf          (else p = p - lr g / avg)
// Scalars are computed in double and rounded to the parameter type, as PyTorch does.
#include <cmath>
#include <type_traits>

#include "engine/dispatch/optim_kernels.h"

namespace gantry::cpu {
namespace {

template <typename T>
struct RMSpropScalars {
  T wd, alpha, one_minus_alpha, eps, momentum, neg_lr;
};

// The per-element loop is instantiated per option combination so it has no branches and vectorises.
template <typename T, bool kDecay, bool kCentered, bool kMomentum>
void rmsprop_loop(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict square_avg, T* __restrict grad_avg,
                  T* __restrict buf, const RMSpropScalars<T> h) {
  for (int64_t i = 0; i < n; ++i) {
    const T gi = kDecay ? g[i] + h.wd * p[i] : g[i];
    const T v = square_avg[i] * h.alpha + h.one_minus_alpha * gi * gi;
    square_avg[i] = v;
    T avg;
    if constexpr (kCentered) {
      const T a = grad_avg[i] * h.alpha + h.one_minus_alpha * gi;
      grad_avg[i] = a;
      avg = std::sqrt(v - a * a) + h.eps;
    } else {
      avg = std::sqrt(v) + h.eps;
    }
    if constexpr (kMomentum) {
      const T b = buf[i] * h.momentum + gi / avg;
      buf[i] = b;
      p[i] = p[i] + h.neg_lr * b;
    } else {
      p[i] = p[i] + h.neg_lr * gi / avg;
    }
  }
}

// Calls f(std::bool_constant<flag>{}) so a runtime flag selects a template instantiation.
template <typename F>
void with_flag(bool flag, F&& f) {
  if (flag) f(std::true_type{});
  else f(std::false_type{});
}

template <typename T>
void rmsprop_one(const RMSpropHyper& h, RMSpropSlot& s) {
  const bool decay = h.weight_decay != 0, momentum = h.momentum > 0;
  const RMSpropScalars<T> scalars{static_cast<T>(h.weight_decay), static_cast<T>(h.alpha),
                                  static_cast<T>(1.0 - h.alpha),  static_cast<T>(h.eps),
                                  static_cast<T>(h.momentum),     static_cast<T>(-h.lr)};
  T* p = s.param.data_ptr<T>();
  const T* g = s.grad.data_ptr<T>();
  T* square_avg = s.square_avg.data_ptr<T>();
  T* grad_avg = h.centered ? s.grad_avg.data_ptr<T>() : nullptr;
  T* buf = momentum ? s.momentum_buffer.data_ptr<T>() : nullptr;
  const int64_t n = s.param.numel();
  with_flag(decay, [&](auto kDecay) {
    with_flag(h.centered, [&](auto kCentered) {
      with_flag(momentum, [&](auto kMomentum) {
        rmsprop_loop<T, decltype(kDecay)::value, decltype(kCentered)::value, decltype(kMomentum)::value>(
            n, p, g, square_avg, grad_avg, buf, scalars);
      });
    });
  });
}

void rmsprop(const RMSpropHyper& h, std::vector<RMSpropSlot>& slots) {
  for (RMSpropSlot& s : slots)
    dispatch_floating(s.param.dtype(), "rmsprop", [&](auto tag) { rmsprop_one<typename decltype(tag)::type>(h, s); });
}

}  // namespace

GANTRY_REGISTER_KERNEL(rmsprop_kernel, CPU, &rmsprop);

}  // namespace gantry::cpu
