#include "engine/core/device.h"

#include "engine/core/cuda_emulation.h"

namespace gantry {
namespace {
int (*g_cuda_device_count)() = nullptr;
bool g_cuda_emulated = false;
}  // namespace
int cuda_device_count() { return g_cuda_device_count ? g_cuda_device_count() : 0; }
void register_cuda_device_count(int (*fn)()) { g_cuda_device_count = fn; }
bool cuda_device_is_emulated() { return g_cuda_emulated; }
void register_cuda_device_emulated() { g_cuda_emulated = true; }
}  // namespace gantry
