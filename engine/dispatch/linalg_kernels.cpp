#include "engine/dispatch/linalg_kernels.h"

namespace gantry {

GANTRY_DEFINE_DISPATCH(GemmKernel, gemm_kernel);
GANTRY_DEFINE_DISPATCH(BatchedGemmKernel, batched_gemm_kernel);

}  // namespace gantry
