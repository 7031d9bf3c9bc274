#include "engine/dispatch/pool_kernels.h"

namespace gantry {

GANTRY_DEFINE_DISPATCH(AvgPool2dKernel, avg_pool2d_kernel);
GANTRY_DEFINE_DISPATCH(AvgPool2dBackwardKernel, avg_pool2d_backward_kernel);
GANTRY_DEFINE_DISPATCH(MaxPool2dKernel, max_pool2d_kernel);

}  // namespace gantry
