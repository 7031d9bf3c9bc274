#pragma once
// Emulated device memory: allocations come from one reserved address range, each on its own pages
// followed by an inaccessible guard page, and addresses are never reused, so a device pointer is
// recognisable by its range, an access can be checked against its allocation, and a use after
// cudaFree points at a freed allocation instead of at someone else's data.
#include <cstddef>
#include <cstdint>
#include <string>

namespace gantry::emu {

// H100 SXM: 80 GB. Allocations beyond it fail as on the GPU (the host backs only what is touched).
constexpr size_t kDeviceMemoryBytes = size_t{80} << 30;

void* device_alloc(size_t bytes);  // null when out of (emulated) memory
bool device_free(void* p);         // false when p is not a live allocation
size_t device_bytes_in_use();

// The reserved device range [device_range_begin, device_range_end); both 0 until the first
// allocation. Plain globals: memory checks test every access against them.
extern uintptr_t device_range_begin;
extern uintptr_t device_range_end;

inline bool is_device_address(const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  return a - device_range_begin < device_range_end - device_range_begin;
}

// The live allocation containing p as [base, end), for callers that cache it; false if none.
// free_generation() changes whenever an allocation is freed, which invalidates such caches.
bool live_allocation_containing(const void* p, uintptr_t& base, uintptr_t& end);
uint64_t free_generation();

// For an access of `bytes` at `p` in the device range: empty when it lies inside a live allocation,
// else a description ("4 bytes at 0x...: 12 bytes past the end of a 64-byte allocation at 0x...").
std::string check_device_access(const void* p, size_t bytes);

// Same for a host-initiated copy of a range that must be device memory (cudaMemcpy and friends).
std::string check_device_range(const void* p, size_t bytes, const char* role);

}  // namespace gantry::emu
