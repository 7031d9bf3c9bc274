#include "engine/dispatch/optim_kernels.h"

namespace gantry {
GANTRY_DEFINE_DISPATCH(AdamKernel, adam_kernel);
GANTRY_DEFINE_DISPATCH(SGDKernel, sgd_kernel);
GANTRY_DEFINE_DISPATCH(RMSpropKernel, rmsprop_kernel);
GANTRY_DEFINE_DISPATCH(ClampInPlaceKernel, clamp_in_place_kernel);
GANTRY_DEFINE_DISPATCH(EmaKernel, ema_kernel);
}  // namespace gantry
