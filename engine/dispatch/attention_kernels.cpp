#include "engine/dispatch/attention_kernels.h"

namespace gantry {

GANTRY_DEFINE_DISPATCH(AttentionKernel, attention_kernel);

}  // namespace gantry
