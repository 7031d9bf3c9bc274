#include "engine/core/device.h"

namespace gantry {
namespace {
int (*g_cuda_device_count)() = nullptr;
}
int cuda_device_count() { return g_cuda_device_count ? g_cuda_device_count() : 0; }
void register_cuda_device_count(int (*fn)()) { g_cuda_device_count = fn; }
}  // namespace gantry
