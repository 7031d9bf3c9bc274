#pragma once
// Weight clipping of the original WGAN (Arjovsky et al. 2017): after each critic update every critic
// parameter is clamped to [-c, c] (c = 0.01 in the paper), which keeps the critic in a compact set
// of functions so it stays K-Lipschitz for some K. PyTorch: `for p in critic.parameters():
// p.data.clamp_(-c, c)`.
#include <vector>

#include "engine/core/tensor.h"

namespace gantry::optim {

// Clamps every tensor in place to [-c, c] with one fused kernel call per device (NaN stays NaN, as in
// torch.clamp_). The tensors must be floating and contiguous (parameters are); c must be finite and
// >= 0. Runs without recording autograd history. Throws before changing anything on bad input.
void clip_weights_(const std::vector<Tensor>& params, double c);

}  // namespace gantry::optim
