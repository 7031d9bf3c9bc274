#pragma once
// An exponential moving average of a module's weights (the "EMA generator" of BigGAN and others, used
// for sampling and evaluation). It keeps a shadow copy of every entry of the module's state dict:
// parameters and buffers alike, so BatchNorm's running_mean / running_var / num_batches_tracked and
// spectral norm's weight_u / weight_v vectors are averaged or copied with the weights.
//
//   update(step):  step < start_step: shadow = source                 (exact copy; BigGAN's ema_start)
//                  otherwise:         shadow = decay * shadow + (1 - decay) * source   (floating tensors)
//                                     shadow = source                                  (integer buffers)
//
// Floating buffers are averaged like parameters, as BigGAN-PyTorch's ema does (its state-dict loop
// averages running statistics and the spectral-norm vectors too). The shadow starts as a copy of
// the source at construction. PyTorch by hand:
//   for k, v in source.state_dict().items():
//       ema[k].copy_(v if step < start or not v.is_floating_point() else ema[k] * decay + v * (1 - decay))
#include <cstdint>
#include <string>

#include "engine/nn/module.h"

namespace gantry::nn {

struct WeightEmaOptions {
  double decay = 0.9999;
  int64_t start_step = 0;  // steps before it copy the weights instead of averaging
};

class WeightEma {
 public:
  // Prefix of state_dict() names: "ema." + the module's state-dict name ("ema.0.weight",
  // "ema.1.running_mean").
  static constexpr const char* kPrefix = "ema.";

  // Holds handles to `source`'s tensors (they stay valid when the module moves devices or loads a
  // state dict, which act in place); the module must outlive the WeightEma.
  explicit WeightEma(const Module& source, WeightEmaOptions options = {});

  // One update after training step `step` (>= 0): one fused kernel call per device for the averaged
  // tensors, copies for the rest.
  void update(int64_t step);

  // Loads the shadow into `target`, a module of the same architecture (same state-dict names and
  // shapes; its dtype and device are kept). Throws naming the keys that do not match.
  void copy_to(Module& target) const;

  // "ema.<name>" -> shadow tensor, in the module's state-dict order.
  StateDict state_dict() const;
  // Loads what state_dict() wrote (exactly those keys; pick them out of a larger file by kPrefix).
  // Throws naming the first bad key (missing, unexpected or of another shape) and changes nothing.
  void load_state_dict(const StateDict& state);

  // Moves the shadow to `device` (after moving the source module).
  void to(Device device);

  const NamedTensors& shadow() const { return shadow_; }
  const WeightEmaOptions& options() const { return options_; }

 private:
  NamedTensors source_;  // the module's own tensors (handles), state-dict order
  NamedTensors shadow_;  // same names, own storage
  WeightEmaOptions options_;
};

}  // namespace gantry::nn
