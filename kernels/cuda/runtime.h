#pragma once
// The CUDA runtime layer: checked CUDA calls, the current device and stream, and pinned host
// staging for host<->device copies. Every CUDA call in the backend goes through GANTRY_CUDA_CHECK
// and every kernel launch is followed by GANTRY_CUDA_LAUNCH_CHECK().
#include <cuda_runtime.h>

#include <cstddef>

#include "engine/core/device.h"
#include "engine/core/error.h"

namespace gantry::cuda {

// Throws gantry::Error naming the failed call, where it was made and CUDA's own description.
[[noreturn]] void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line);

// After a launch: report launch errors; with GANTRY_CUDA_SYNC=1 in the environment also
// synchronise, so an asynchronous fault is reported at the kernel that caused it.
void check_launch(const char* file, int line);

// True when GANTRY_CUDA_SYNC=1 (read once).
bool sync_after_launch();

// Usable CUDA devices; 0 (never a crash) when there is no driver or no GPU.
int device_count();

// Throws unless `device` is a CUDA device that exists.
void check_device(Device device, const char* op);

// The stream kernels on `device_index` are launched on: one non-blocking stream per device, created
// on first use. set_current_stream swaps it (e.g. for graph capture); nullptr restores the default.
cudaStream_t current_stream(int device_index);
void set_current_stream(int device_index, cudaStream_t stream);

// Makes `device_index` current for its lifetime and restores the previous device afterwards.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device_index);
  explicit DeviceGuard(Device device) : DeviceGuard(device.index) {}
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
};

// Copies between host memory and device memory through a pinned staging buffer (so the transfer
// runs at full PCIe/NVLink speed even for pageable host memory). Synchronous: returns when done.
void copy_host_to_device(void* dst_device, const void* src_host, size_t nbytes, int device_index);
void copy_device_to_host(void* dst_host, const void* src_device, size_t nbytes, int device_index);

// Copies a small host table (kernel arguments that do not fit in a launch) to device memory on
// `stream` without synchronising: the bytes are staged in a ring of pinned buffers, each reused only
// after the copy that last used it has finished. The host buffer may be reused as soon as this returns.
void upload_async(void* dst_device, const void* src_host, size_t nbytes, int device_index, cudaStream_t stream);

// Grid size for a grid-stride loop over n items with `threads` per block (capped so huge tensors
// reuse blocks instead of launching billions).
unsigned int grid_for(long long n, int threads);

}  // namespace gantry::cuda

#define GANTRY_CUDA_CHECK(call)                                                               \
  do {                                                                                        \
    const cudaError_t gantry_cuda_err_ = (call);                                              \
    if (gantry_cuda_err_ != cudaSuccess)                                                      \
      ::gantry::cuda::throw_cuda_error(gantry_cuda_err_, #call, __FILE__, __LINE__);          \
  } while (0)

#define GANTRY_CUDA_LAUNCH_CHECK() ::gantry::cuda::check_launch(__FILE__, __LINE__)
