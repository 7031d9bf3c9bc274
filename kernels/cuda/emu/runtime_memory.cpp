// The CUDA runtime's memory calls on emulated device memory (device_memory.h). Copies and sets run
// at once on the calling thread (every stream is serialised with the host); the device side of each
// must be a live allocation and stay inside it, else cudaErrorInvalidValue with the reason.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/cuda/emu/device_memory.h"
#include "kernels/cuda/emu/last_error.h"

namespace {

using gantry::emu::check_device_range;
using gantry::emu::set_last_error;

cudaError_t invalid(const char* call, const std::string& why) {
  return set_last_error(cudaErrorInvalidValue, std::string(call) + ": " + why);
}

// Checks the device sides of a copy of `count` bytes for `kind`.
std::string check_copy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  const bool dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (kind == cudaMemcpyDefault || kind == cudaMemcpyHostToHost) return "";
  if (dst_device) {
    std::string bad = check_device_range(dst, count, "destination");
    if (!bad.empty()) return bad;
  } else if (gantry::emu::is_device_address(dst)) {
    return "destination is device memory but the copy kind says host";
  }
  if (src_device) return check_device_range(src, count, "source");
  if (gantry::emu::is_device_address(src)) return "source is device memory but the copy kind says host";
  return "";
}

cudaError_t copy(const char* call, void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  if (count == 0) return cudaSuccess;
  if (dst == nullptr || src == nullptr) return invalid(call, "null pointer");
  const std::string bad = check_copy(dst, src, count, kind);
  if (!bad.empty()) return invalid(call, bad);
  std::memmove(dst, src, count);
  return cudaSuccess;
}

cudaError_t set(const char* call, void* p, int value, size_t count) {
  if (count == 0) return cudaSuccess;
  const std::string bad = check_device_range(p, count, "destination");
  if (!bad.empty()) return invalid(call, bad);
  std::memset(p, value, count);
  return cudaSuccess;
}

cudaError_t host_alloc(void** p, size_t size) {
  if (p == nullptr) return invalid("cudaHostAlloc", "null result pointer");
  *p = std::aligned_alloc(4096, (std::max<size_t>(size, 1) + 4095) / 4096 * 4096);
  if (*p == nullptr) return set_last_error(cudaErrorMemoryAllocation, "cudaHostAlloc: out of host memory");
  return cudaSuccess;
}

}  // namespace

extern "C" {

cudaError_t cudaMalloc(void** p, size_t size) {
  if (p == nullptr) return invalid("cudaMalloc", "null result pointer");
  *p = gantry::emu::device_alloc(size);
  if (*p == nullptr)
    return set_last_error(cudaErrorMemoryAllocation, "cudaMalloc: out of memory: " + std::to_string(size) +
                                                         " bytes requested, " +
                                                         std::to_string(gantry::emu::device_bytes_in_use()) + " of " +
                                                         std::to_string(gantry::emu::kDeviceMemoryBytes) + " in use");
  return cudaSuccess;
}

cudaError_t cudaFree(void* p) {
  if (p == nullptr) return cudaSuccess;
  if (!gantry::emu::device_free(p)) return invalid("cudaFree", "not the start of a live device allocation");
  return cudaSuccess;
}

cudaError_t cudaHostAlloc(void** p, size_t size, unsigned int) { return host_alloc(p, size); }
cudaError_t cudaMallocHost(void** p, size_t size) { return host_alloc(p, size); }

cudaError_t cudaFreeHost(void* p) {
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  const size_t used = gantry::emu::device_bytes_in_use();
  if (total_bytes != nullptr) *total_bytes = gantry::emu::kDeviceMemoryBytes;
  if (free_bytes != nullptr) *free_bytes = gantry::emu::kDeviceMemoryBytes - used;
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  return copy("cudaMemcpy", dst, src, count, kind);
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind, cudaStream_t) {
  return copy("cudaMemcpyAsync", dst, src, count, kind);
}

cudaError_t cudaMemcpyPeerAsync(void* dst, int, const void* src, int, size_t count, cudaStream_t) {
  return copy("cudaMemcpyPeerAsync", dst, src, count, cudaMemcpyDeviceToDevice);
}

cudaError_t cudaMemset(void* p, int value, size_t count) { return set("cudaMemset", p, value, count); }

cudaError_t cudaMemsetAsync(void* p, int value, size_t count, cudaStream_t) {
  return set("cudaMemsetAsync", p, value, count);
}

}  // extern "C"
