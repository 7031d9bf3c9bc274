#include "engine/dispatch/reduce_kernels.h"

namespace gantry {

GANTRY_DEFINE_DISPATCH(ReduceKernel, reduce_kernel);
GANTRY_DEFINE_DISPATCH(ArgReduceKernel, arg_reduce_kernel);

}  // namespace gantry
