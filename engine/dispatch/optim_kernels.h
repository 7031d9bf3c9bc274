#pragma once
// Kernel tables of the fused optimiser and weight updates. One call updates a list of tensors (all on
// the kernel's device), so a backend may process them as one multi-tensor launch. Every
// tensor is contiguous and has the parameter's shape; updates are in place.
#include <cstdint>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/dispatch/dispatch.h"

namespace gantry {

struct AdamHyper {
  double lr, beta1, beta2, eps, weight_decay;
  bool amsgrad;
};

// One parameter's Adam update. `step` is the step count after this update (>= 1), used for the
// bias corrections. max_exp_avg_sq is defined only with amsgrad.
struct AdamSlot {
  Tensor param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq;
  int64_t step;
};

struct SGDHyper {
  double lr, momentum, dampening, weight_decay;
  bool nesterov;
};

// momentum_buffer is defined when momentum != 0; `first_step` says it is uninitialised (it then
// becomes the (weight-decayed) gradient, as in PyTorch).
struct SGDSlot {
  Tensor param, grad, momentum_buffer;
  bool first_step;
};

struct RMSpropHyper {
  double lr, alpha, eps, weight_decay, momentum;
  bool centered;
};

// One parameter's RMSprop update. grad_avg is defined only when centered, momentum_buffer only when
// momentum > 0; every state tensor starts at zero.
struct RMSpropSlot {
  Tensor param, grad, square_avg, grad_avg, momentum_buffer;
};

// shadow = decay * shadow + (1 - decay) * source for one tensor pair (same shape and floating dtype),
// the update of an exponential moving average of weights.
struct EmaSlot {
  Tensor shadow, source;
};

using AdamKernel = void (*)(const AdamHyper& hyper, std::vector<AdamSlot>& slots);
using SGDKernel = void (*)(const SGDHyper& hyper, std::vector<SGDSlot>& slots);
using RMSpropKernel = void (*)(const RMSpropHyper& hyper, std::vector<RMSpropSlot>& slots);
GANTRY_DECLARE_DISPATCH(AdamKernel, adam_kernel);
GANTRY_DECLARE_DISPATCH(SGDKernel, sgd_kernel);
GANTRY_DECLARE_DISPATCH(RMSpropKernel, rmsprop_kernel);

// Clamps every tensor (floating) in place to [min, max]; NaN stays NaN, as in torch.clamp_.
using ClampInPlaceKernel = void (*)(double min, double max, std::vector<Tensor>& tensors);
using EmaKernel = void (*)(double decay, std::vector<EmaSlot>& slots);
GANTRY_DECLARE_DISPATCH(ClampInPlaceKernel, clamp_in_place_kernel);
GANTRY_DECLARE_DISPATCH(EmaKernel, ema_kernel);

}  // namespace gantry
