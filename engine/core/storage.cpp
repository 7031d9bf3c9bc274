#include "engine/core/storage.h"

#include <malloc.h>

#include <cstdlib>

#include "engine/core/error.h"

namespace gantry {
namespace {

// 64-byte aligned host memory, so vector loads and BLAS see aligned rows. The block has exactly the
// requested size (posix_memalign, unlike aligned_alloc, needs no rounding up), so AddressSanitizer
// reports an access just past a tensor's end instead of letting padding hide it.
class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes, Device) override {
    void* p = nullptr;
    const int status = posix_memalign(&p, 64, nbytes == 0 ? 1 : nbytes);
    GANTRY_CHECK(status == 0, "CPU allocator: out of memory allocating ", nbytes, " bytes");
    return p;
  }
  void deallocate(void* ptr, Device) override { std::free(ptr); }
};

CpuAllocator g_cpu_allocator;

// glibc serves blocks above 128 KiB with a fresh mmap and returns them on free, so every activation of
// a training step would page-fault anew. Keeping large blocks in the heap lets steps reuse them.
[[maybe_unused]] const bool g_keep_large_blocks = [] {
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  return true;
}();
Allocator* g_allocators[kNumDeviceTypes] = {&g_cpu_allocator, nullptr};

}  // namespace

Allocator& allocator_for(DeviceType type) {
  Allocator* a = g_allocators[static_cast<int>(type)];
  GANTRY_CHECK(a != nullptr, "no allocator for device type ", device_type_name(type),
               ": this build of gantry has no ", device_type_name(type), " backend");
  return *a;
}

void register_allocator(DeviceType type, Allocator* allocator) {
  g_allocators[static_cast<int>(type)] = allocator;
}

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  data_ = allocator_for(device.type).allocate(nbytes, device);
}

Storage::~Storage() {
  if (data_) allocator_for(device_.type).deallocate(data_, device_);
}

}  // namespace gantry
