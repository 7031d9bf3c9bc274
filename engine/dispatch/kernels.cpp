#include "engine/dispatch/kernels.h"

namespace gantry {

GANTRY_DEFINE_DISPATCH(FillKernel, fill_kernel);
GANTRY_DEFINE_DISPATCH(CopyKernel, copy_kernel);
GANTRY_DEFINE_DISPATCH(CrossDeviceCopyKernel, cross_device_copy_kernel);
GANTRY_DEFINE_DISPATCH(UnaryKernel, unary_kernel);
GANTRY_DEFINE_DISPATCH(BinaryKernel, binary_kernel);
GANTRY_DEFINE_DISPATCH(CompareKernel, compare_kernel);
GANTRY_DEFINE_DISPATCH(WhereKernel, where_kernel);

}  // namespace gantry
