#pragma once
// The CUDA caching allocator: freed blocks are kept per (device, stream) and reused, so a training
// step reaches a steady state with no cudaMalloc/cudaFree. Sizes are rounded to classes (512 B for
// small requests, 2 MiB for large ones). On cudaErrorMemoryAllocation the cache is released and the
// request retried once before a clear out-of-memory error. While a CUDA graph is being captured no
// cudaMalloc/cudaFree may happen: requests are served from the cache or fail clearly.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace gantry::cuda {

struct AllocatorStats {
  size_t allocated_bytes = 0;       // in blocks handed out now (rounded sizes)
  size_t peak_allocated_bytes = 0;
  size_t reserved_bytes = 0;        // obtained from cudaMalloc and not yet returned
  size_t peak_reserved_bytes = 0;
  uint64_t num_cuda_mallocs = 0;
  uint64_t num_cuda_frees = 0;
  uint64_t num_cache_hits = 0;      // requests served from the cache
  uint64_t num_oom_retries = 0;     // times the cache was released to retry a failed cudaMalloc
};

constexpr size_t kSmallRequestLimit = size_t{1} << 20;  // requests up to 1 MiB are "small"
constexpr size_t kSmallRounding = 512;
constexpr size_t kLargeRounding = size_t{2} << 20;

// The size class a request is rounded to.
size_t round_allocation_size(size_t nbytes);

// Allocates on `device_index` for use on `stream` (blocks are only reused on the stream they were
// allocated for). Zero-byte requests get a valid one-class block so every tensor has a pointer.
void* cuda_allocate(size_t nbytes, int device_index, cudaStream_t stream);
void cuda_deallocate(void* ptr);

// Returns every cached (free) block to CUDA. Refused while capturing.
void empty_cache();

AllocatorStats allocator_stats(int device_index);
void reset_peak_stats(int device_index);

// Graph-capture mode for a device: while set, a request the cache cannot serve throws instead of
// calling cudaMalloc, and empty_cache refuses. Use CaptureModeGuard around stream capture.
void set_capture_mode(int device_index, bool capturing);
bool capture_mode(int device_index);

class CaptureModeGuard {
 public:
  explicit CaptureModeGuard(int device_index) : device_(device_index) { set_capture_mode(device_, true); }
  ~CaptureModeGuard() { set_capture_mode(device_, false); }
  CaptureModeGuard(const CaptureModeGuard&) = delete;
  CaptureModeGuard& operator=(const CaptureModeGuard&) = delete;

 private:
  int device_;
};

// "1.50 MiB" style sizes for messages.
std::string format_bytes(size_t nbytes);

}  // namespace gantry::cuda
