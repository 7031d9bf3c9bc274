#include "engine/dispatch/norm_kernels.h"

namespace gantry {

GANTRY_DEFINE_DISPATCH(BatchNormForwardKernel, batch_norm_forward_kernel);
GANTRY_DEFINE_DISPATCH(BatchNormBackwardKernel, batch_norm_backward_kernel);

}  // namespace gantry
