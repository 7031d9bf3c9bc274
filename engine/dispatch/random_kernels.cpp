#include "engine/dispatch/random_kernels.h"

namespace gantry {
GANTRY_DEFINE_DISPATCH(RandomFillKernel, random_fill_kernel);
}  // namespace gantry
