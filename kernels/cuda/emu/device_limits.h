#pragma once
// The emulated device: an H100 SXM's limits, which launches are checked against and
// cudaGetDeviceProperties / cudaDeviceGetAttribute report.
#include <cstddef>

namespace gantry::emu {

constexpr int kComputeMajor = 9;
constexpr int kComputeMinor = 0;
constexpr int kMultiProcessors = 132;
constexpr size_t kSharedPerBlockDefault = 48 * 1024;
constexpr size_t kSharedPerBlockOptin = 227 * 1024;
constexpr size_t kSharedPerMultiprocessor = 228 * 1024;
constexpr int kMaxThreadsPerMultiprocessor = 2048;
constexpr int kMaxBlockDim[3] = {1024, 1024, 64};
constexpr int kMaxGridDim[3] = {2147483647, 65535, 65535};
constexpr int kL2CacheBytes = 50 * 1024 * 1024;
constexpr int kRegistersPerBlock = 65536;
constexpr int kClockRateKHz = 1980000;
constexpr int kMemoryBusWidth = 5120;
constexpr const char* kDeviceName = "gantry CUDA emulator (H100 limits; runs on the CPU)";

}  // namespace gantry::emu
