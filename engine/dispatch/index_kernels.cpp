#include "engine/dispatch/index_kernels.h"

namespace gantry {

GANTRY_DEFINE_DISPATCH(GatherKernel, gather_kernel);
GANTRY_DEFINE_DISPATCH(ScatterAddKernel, scatter_add_kernel);
GANTRY_DEFINE_DISPATCH(TopkKernel, topk_kernel);

}  // namespace gantry
