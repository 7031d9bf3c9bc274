// Exponential moving average of weights: shadow = decay * shadow + (1 - decay) * source, element-wise,
// per tensor pair (the BigGAN generator EMA, written there as ema * decay + source * (1 - decay)).
#include "engine/dispatch/optim_kernels.h"

namespace gantry::cpu {
namespace {

template <typename T>
void ema_one(T decay, T one_minus_decay, EmaSlot& s) {
  T* __restrict shadow = s.shadow.data_ptr<T>();
  const T* __restrict source = s.source.data_ptr<T>();
  const int64_t n = s.shadow.numel();
  for (int64_t i = 0; i < n; ++i) shadow[i] = shadow[i] * decay + source[i] * one_minus_decay;
}

void ema(double decay, std::vector<EmaSlot>& slots) {
  for (EmaSlot& s : slots)
    dispatch_floating(s.shadow.dtype(), "ema", [&](auto tag) {
      using T = typename decltype(tag)::type;
      ema_one<T>(static_cast<T>(decay), static_cast<T>(1.0 - decay), s);
    });
}

}  // namespace

GANTRY_REGISTER_KERNEL(ema_kernel, CPU, &ema);

}  // namespace gantry::cpu
