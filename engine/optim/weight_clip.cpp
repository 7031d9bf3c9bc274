#include "engine/optim/weight_clip.h"

#include <cmath>

#include "engine/autograd/grad_mode.h"
#include "engine/dispatch/optim_kernels.h"
#include "engine/optim/device_groups.h"

namespace gantry::optim {

void clip_weights_(const std::vector<Tensor>& params, double c) {
  GANTRY_CHECK(std::isfinite(c) && c >= 0, "clip_weights_: the bound c must be finite and >= 0, got ", c);
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    GANTRY_CHECK(p.defined(), "clip_weights_: tensor ", i, " is undefined");
    GANTRY_CHECK(is_floating(p.dtype()), "clip_weights_: tensor ", i, " must be floating point, got ",
                 dtype_name(p.dtype()));
    GANTRY_CHECK(p.is_contiguous(), "clip_weights_: tensor ", i, " (shape ", shape_str(p.shape()),
                 ") must be contiguous");
  }
  NoGradGuard no_grad;
  for (auto& [device, tensors] : group_by_device(params, [](const Tensor& t) { return t.device(); }))
    clamp_in_place_kernel(device.type, -c, c, tensors);
}

}  // namespace gantry::optim
