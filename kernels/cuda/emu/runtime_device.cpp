// Device discovery, properties and errors of the emulated device: one device, cuda:0, with an H100's
// limits (device_limits.h).
#include <cuda_runtime.h>

#include <cstring>

#include "kernels/cuda/emu/device_limits.h"
#include "kernels/cuda/emu/device_memory.h"
#include "kernels/cuda/emu/last_error.h"

namespace {

thread_local int t_device = 0;

bool valid_device(int device) { return device == 0; }

cudaError_t no_device(const char* call, int device) {
  return gantry::emu::set_last_error(cudaErrorInvalidDevice, std::string(call) + ": device " + std::to_string(device) +
                                                                 " does not exist (the emulator has one device)");
}

const char* error_name(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorNotSupported: return "cudaErrorNotSupported";
    default: return "cudaErrorUnknown";
  }
}

const char* error_text(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorNotSupported: return "operation not supported";
    default: return "unknown error";
  }
}

}  // namespace

extern "C" {

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  *device = t_device;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  if (!valid_device(device)) return no_device("cudaSetDevice", device);
  t_device = device;
  return cudaSuccess;
}

cudaError_t cudaGetLastError() { return gantry::emu::take_last_error(); }
cudaError_t cudaPeekAtLastError() { return gantry::emu::peek_last_error(); }
const char* cudaGetErrorName(cudaError_t e) { return error_name(e); }

// The emulator's explanation of the last error with this code (naming the kernel, the line, the
// allocation), else CUDA's generic text.
const char* cudaGetErrorString(cudaError_t e) {
  const char* detail = gantry::emu::error_detail(e);
  return detail != nullptr ? detail : error_text(e);
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  using namespace gantry::emu;
  if (!valid_device(device)) return no_device("cudaGetDeviceProperties", device);
  std::memset(p, 0, sizeof *p);
  std::strncpy(p->name, kDeviceName, sizeof p->name - 1);
  p->totalGlobalMem = kDeviceMemoryBytes;
  p->sharedMemPerBlock = kSharedPerBlockDefault;
  p->sharedMemPerBlockOptin = kSharedPerBlockOptin;
  p->sharedMemPerMultiprocessor = kSharedPerMultiprocessor;
  p->regsPerBlock = kRegistersPerBlock;
  p->regsPerMultiprocessor = kRegistersPerBlock;
  p->warpSize = 32;
  p->maxThreadsPerBlock = kMaxBlockDim[0];
  p->maxThreadsPerMultiProcessor = kMaxThreadsPerMultiprocessor;
  for (int i = 0; i < 3; ++i) {
    p->maxThreadsDim[i] = kMaxBlockDim[i];
    p->maxGridSize[i] = kMaxGridDim[i];
  }
  p->major = kComputeMajor;
  p->minor = kComputeMinor;
  p->multiProcessorCount = kMultiProcessors;
  p->l2CacheSize = kL2CacheBytes;
  p->memoryBusWidth = kMemoryBusWidth;
  p->totalConstMem = 64 * 1024;
  p->unifiedAddressing = 1;
  p->concurrentKernels = 1;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  using namespace gantry::emu;
  if (!valid_device(device)) return no_device("cudaDeviceGetAttribute", device);
  switch (attr) {
    case cudaDevAttrMultiProcessorCount: *value = kMultiProcessors; break;
    case cudaDevAttrL2CacheSize: *value = kL2CacheBytes; break;
    case cudaDevAttrMaxThreadsPerBlock: *value = kMaxBlockDim[0]; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = static_cast<int>(kSharedPerBlockDefault); break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = static_cast<int>(kSharedPerBlockOptin); break;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor: *value = static_cast<int>(kSharedPerMultiprocessor); break;
    case cudaDevAttrWarpSize: *value = 32; break;
    case cudaDevAttrComputeCapabilityMajor: *value = kComputeMajor; break;
    case cudaDevAttrComputeCapabilityMinor: *value = kComputeMinor; break;
    case cudaDevAttrMaxThreadsPerMultiProcessor: *value = kMaxThreadsPerMultiprocessor; break;
    default:
      return set_last_error(cudaErrorNotSupported, "cudaDeviceGetAttribute: attribute " +
                                                       std::to_string(static_cast<int>(attr)) + " is not emulated");
  }
  return cudaSuccess;
}

}  // extern "C"
