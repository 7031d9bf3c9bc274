#include "engine/dispatch/softmax_kernels.h"

namespace gantry {

GANTRY_DEFINE_DISPATCH(SoftmaxKernel, softmax_kernel);

}  // namespace gantry
