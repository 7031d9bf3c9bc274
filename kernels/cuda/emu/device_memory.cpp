#include "kernels/cuda/emu/device_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iterator>
#include <map>
#include <mutex>
#include <sstream>

namespace gantry::emu {

uintptr_t device_range_begin = 0;
uintptr_t device_range_end = 0;

namespace {

constexpr size_t kArenaBytes = size_t{1} << 40;  // address space only: pages exist once allocated

struct Allocation {
  size_t bytes = 0;
  bool live = true;
};

struct Arena {
  std::mutex mutex;
  char* base = nullptr;
  size_t next = 0;  // bump offset; addresses are never handed out twice
  size_t in_use = 0;
  std::map<uintptr_t, Allocation> allocations;
  size_t page = 4096;

  Arena() {
    page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    void* m = mmap(nullptr, kArenaBytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
      std::fprintf(stderr, "CUDA emulator: cannot reserve address space for device memory\n");
      std::abort();
    }
    base = static_cast<char*>(m);
    device_range_begin = reinterpret_cast<uintptr_t>(base);
    device_range_end = device_range_begin + kArenaBytes;
  }
};

std::atomic<uint64_t> g_free_generation{0};

Arena& arena() {
  static Arena* a = new Arena();  // never destroyed: device pointers may outlive static teardown
  return *a;
}

// The allocation whose [base, base + bytes + guard) contains p, or end().
std::map<uintptr_t, Allocation>::const_iterator find_containing(const Arena& a, uintptr_t p) {
  auto it = a.allocations.upper_bound(p);
  if (it == a.allocations.begin()) return a.allocations.end();
  return std::prev(it);
}

std::string hex(uintptr_t v) {
  std::ostringstream o;
  o << "0x" << std::hex << v;
  return o.str();
}

}  // namespace

void* device_alloc(size_t bytes) {
  Arena& a = arena();
  std::lock_guard<std::mutex> lock(a.mutex);
  if (bytes > kDeviceMemoryBytes || a.in_use + bytes > kDeviceMemoryBytes) return nullptr;
  const size_t rounded = (std::max<size_t>(bytes, 1) + a.page - 1) / a.page * a.page;
  if (a.next + rounded + a.page > kArenaBytes) return nullptr;
  char* p = a.base + a.next;
  if (mprotect(p, rounded, PROT_READ | PROT_WRITE) != 0) return nullptr;
  a.next += rounded + a.page;  // the page after it stays PROT_NONE
  a.in_use += bytes;
  a.allocations[reinterpret_cast<uintptr_t>(p)] = Allocation{bytes, true};
  return p;
}

bool device_free(void* p) {
  Arena& a = arena();
  std::lock_guard<std::mutex> lock(a.mutex);
  auto it = a.allocations.find(reinterpret_cast<uintptr_t>(p));
  if (it == a.allocations.end() || !it->second.live) return false;
  const size_t rounded = (std::max<size_t>(it->second.bytes, 1) + a.page - 1) / a.page * a.page;
  // Give the pages back and make them inaccessible again.
  mmap(p, rounded, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  it->second.live = false;
  g_free_generation.fetch_add(1, std::memory_order_relaxed);
  a.in_use -= it->second.bytes;
  return true;
}

size_t device_bytes_in_use() {
  Arena& a = arena();
  std::lock_guard<std::mutex> lock(a.mutex);
  return a.in_use;
}

bool live_allocation_containing(const void* p, uintptr_t& base, uintptr_t& end) {
  Arena& a = arena();
  std::lock_guard<std::mutex> lock(a.mutex);
  const auto it = find_containing(a, reinterpret_cast<uintptr_t>(p));
  if (it == a.allocations.end() || !it->second.live) return false;
  base = it->first;
  end = it->first + it->second.bytes;
  return true;
}

uint64_t free_generation() { return g_free_generation.load(std::memory_order_relaxed); }

std::string check_device_access(const void* p, size_t bytes) {
  Arena& a = arena();
  std::lock_guard<std::mutex> lock(a.mutex);
  const auto addr = reinterpret_cast<uintptr_t>(p);
  const auto it = find_containing(a, addr);
  const std::string what = std::to_string(bytes) + " bytes at device address " + hex(addr);
  if (it == a.allocations.end()) return what + ": before the first allocation";
  const uintptr_t base = it->first;
  const size_t size = it->second.bytes;
  const std::string alloc = "a " + std::to_string(size) + "-byte allocation at " + hex(base);
  if (!it->second.live) return what + ": inside " + alloc + " that was freed";
  if (addr + bytes <= base + size) return "";
  if (addr >= base + size)
    return what + ": " + std::to_string(addr - (base + size)) + " bytes past the end of " + alloc;
  return what + ": runs past the end of " + alloc;
}

std::string check_device_range(const void* p, size_t bytes, const char* role) {
  if (bytes == 0) return "";
  if (!is_device_address(p))
    return std::string(role) + " " + hex(reinterpret_cast<uintptr_t>(p)) + " is not device memory";
  const std::string bad = check_device_access(p, bytes);
  return bad.empty() ? "" : std::string(role) + ": " + bad;
}

}  // namespace gantry::emu
