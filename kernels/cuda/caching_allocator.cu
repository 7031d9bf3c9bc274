#include "kernels/cuda/caching_allocator.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "engine/core/storage.h"
#include "kernels/cuda/runtime.h"

namespace gantry::cuda {

size_t round_allocation_size(size_t nbytes) {
  if (nbytes == 0) nbytes = 1;
  const size_t unit = nbytes <= kSmallRequestLimit ? kSmallRounding : kLargeRounding;
  return (nbytes + unit - 1) / unit * unit;
}

std::string format_bytes(size_t nbytes) {
  char buf[64];
  const double b = static_cast<double>(nbytes);
  if (nbytes >= (size_t{1} << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", b / (1 << 30));
  else if (nbytes >= (size_t{1} << 20)) std::snprintf(buf, sizeof buf, "%.2f MiB", b / (1 << 20));
  else if (nbytes >= 1024) std::snprintf(buf, sizeof buf, "%.2f KiB", b / 1024);
  else std::snprintf(buf, sizeof buf, "%zu bytes", nbytes);
  return buf;
}

namespace {

struct Block {
  void* ptr = nullptr;
  size_t size = 0;  // rounded size, as obtained from cudaMalloc
  int device = 0;
  cudaStream_t stream = nullptr;
};

using PoolKey = std::pair<int, cudaStream_t>;
using FreeList = std::multimap<size_t, Block>;  // by size, for best fit

struct DeviceState {
  AllocatorStats stats;
  bool capturing = false;
};

class CachingAllocator {
 public:
  void* allocate(size_t nbytes, int device, cudaStream_t stream) {
    const size_t size = round_allocation_size(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    DeviceState& dev = devices_[device];
    Block block;
    if (take_cached(device, stream, size, dev.capturing, block)) {
      ++dev.stats.num_cache_hits;
    } else {
      GANTRY_CHECK(!dev.capturing, "CUDA caching allocator: a request for ", format_bytes(nbytes), " on cuda:",
                   device, " cannot be served from the cache while a CUDA graph is being captured (no "
                   "cudaMalloc during capture); run the captured step once before capturing so the cache "
                   "holds its blocks");
      block = malloc_block(size, nbytes, device, stream, dev);
    }
    live_.emplace(block.ptr, block);
    dev.stats.allocated_bytes += block.size;
    dev.stats.peak_allocated_bytes = std::max(dev.stats.peak_allocated_bytes, dev.stats.allocated_bytes);
    return block.ptr;
  }

  void deallocate(void* ptr) {
    if (ptr == nullptr) return;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(ptr);
    GANTRY_CHECK(it != live_.end(), "CUDA caching allocator: freeing a pointer it did not allocate");
    const Block block = it->second;
    live_.erase(it);
    devices_[block.device].stats.allocated_bytes -= block.size;
    pools_[{block.device, block.stream}].emplace(block.size, block);
  }

  void empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [device, state] : devices_)
      GANTRY_CHECK(!state.capturing, "CUDA caching allocator: empty_cache while cuda:", device,
                   " is capturing a CUDA graph");
    release_cached(-1);
  }

  AllocatorStats stats(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    return devices_[device].stats;
  }

  void reset_peaks(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    AllocatorStats& s = devices_[device].stats;
    s.peak_allocated_bytes = s.allocated_bytes;
    s.peak_reserved_bytes = s.reserved_bytes;
  }

  void set_capturing(int device, bool capturing) {
    std::lock_guard<std::mutex> lock(mutex_);
    devices_[device].capturing = capturing;
  }
  bool capturing(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    return devices_[device].capturing;
  }

 private:
  // Best fit from the (device, stream) pool. Normally the block may exceed the request by at most a
  // quarter (bounded waste); while capturing any larger block will do, since the alternative is failing.
  bool take_cached(int device, cudaStream_t stream, size_t size, bool any_larger, Block& out) {
    auto pool = pools_.find({device, stream});
    if (pool == pools_.end()) return false;
    auto it = pool->second.lower_bound(size);
    if (it == pool->second.end()) return false;
    if (!any_larger && it->first > size + size / 4) return false;
    out = it->second;
    pool->second.erase(it);
    return true;
  }

  Block malloc_block(size_t size, size_t requested, int device, cudaStream_t stream, DeviceState& dev) {
    DeviceGuard guard(device);
    void* ptr = nullptr;
    cudaError_t err = cudaMalloc(&ptr, size);
    if (err == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      ++dev.stats.num_oom_retries;
      release_cached(device);
      err = cudaMalloc(&ptr, size);
    }
    if (err == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      size_t free_bytes = 0, total_bytes = 0;
      (void)cudaMemGetInfo(&free_bytes, &total_bytes);
      (void)cudaGetLastError();
      GANTRY_FAIL("CUDA out of memory: tried to allocate ", format_bytes(requested), " on cuda:", device, " (",
                  format_bytes(dev.stats.allocated_bytes), " allocated, ", format_bytes(dev.stats.reserved_bytes),
                  " reserved by gantry; ", format_bytes(free_bytes), " free of ", format_bytes(total_bytes),
                  " on the device)");
    }
    if (err != cudaSuccess) throw_cuda_error(err, "cudaMalloc", __FILE__, __LINE__);
    ++dev.stats.num_cuda_mallocs;
    dev.stats.reserved_bytes += size;
    dev.stats.peak_reserved_bytes = std::max(dev.stats.peak_reserved_bytes, dev.stats.reserved_bytes);
    return Block{ptr, size, device, stream};
  }

  // Frees the cached blocks of one device (or of all devices when device < 0).
  void release_cached(int device) {
    for (auto& [key, pool] : pools_) {
      if (device >= 0 && key.first != device) continue;
      DeviceGuard guard(key.first);
      DeviceState& dev = devices_[key.first];
      for (auto& [size, block] : pool) {
        GANTRY_CUDA_CHECK(cudaFree(block.ptr));
        dev.stats.reserved_bytes -= size;
        ++dev.stats.num_cuda_frees;
      }
      pool.clear();
    }
  }

  std::mutex mutex_;
  std::unordered_map<void*, Block> live_;
  std::map<PoolKey, FreeList> pools_;
  std::map<int, DeviceState> devices_;
};

// Never destroyed: tensors in static storage may be freed after other statics are gone, and cached
// blocks are returned to the driver at process exit anyway.
CachingAllocator& instance() {
  static CachingAllocator* a = new CachingAllocator();
  return *a;
}

// The engine-facing adapter: storage on cuda:N is allocated for that device's current stream.
class EngineCudaAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes, Device device) override {
    check_device(device, "CUDA allocator");
    return instance().allocate(nbytes, device.index, current_stream(device.index));
  }
  void deallocate(void* ptr, Device) override { instance().deallocate(ptr); }
};

[[maybe_unused]] const bool g_registered = [] {
  static EngineCudaAllocator* adapter = new EngineCudaAllocator();
  register_allocator(DeviceType::CUDA, adapter);
  return true;
}();

}  // namespace

void* cuda_allocate(size_t nbytes, int device_index, cudaStream_t stream) {
  return instance().allocate(nbytes, device_index, stream);
}
void cuda_deallocate(void* ptr) { instance().deallocate(ptr); }
void empty_cache() { instance().empty_cache(); }
AllocatorStats allocator_stats(int device_index) { return instance().stats(device_index); }
void reset_peak_stats(int device_index) { instance().reset_peaks(device_index); }
void set_capture_mode(int device_index, bool capturing) { instance().set_capturing(device_index, capturing); }
bool capture_mode(int device_index) { return instance().capturing(device_index); }

}  // namespace gantry::cuda
