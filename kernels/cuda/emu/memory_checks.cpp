#include "kernels/cuda/emu/memory_checks.h"

#include <dlfcn.h>
#include <sys/mman.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "kernels/cuda/emu/block_runner.h"
#include "kernels/cuda/emu/device_memory.h"
#include "kernels/cuda/emu/shared_races.h"

// Linker-defined bounds of the executable's zero-initialised static data.
extern "C" char __bss_start[];
extern "C" char _end[];

namespace gantry::emu {

namespace {

uint32_t g_epoch = 0;
uint32_t g_phase = 1;          // 0 marks "no access" in the race shadow
uint32_t* g_shadow = nullptr;  // one epoch per byte of .bss
bool g_called = false;         // a callback has run: the kernels are instrumented

uint32_t* shadow() {
  if (g_shadow == nullptr) {
    const size_t bytes = static_cast<size_t>(_end - __bss_start) * sizeof(uint32_t);
    void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
      std::fprintf(stderr, "CUDA emulator: cannot map the shared-memory shadow\n");
      std::abort();
    }
    g_shadow = static_cast<uint32_t*>(m);
  }
  return g_shadow;
}

}  // namespace

std::string code_location(const void* pc) {
  Dl_info info{};
  if (pc == nullptr) return "";
  if (dladdr(pc, &info) == 0 || info.dli_fname == nullptr) return "";
  std::ostringstream offset;
  offset << "0x" << std::hex
         << (reinterpret_cast<uintptr_t>(pc) - 1 - reinterpret_cast<uintptr_t>(info.dli_fbase));  // the call itself
  const std::string file = info.dli_fname[0] != '\0' ? info.dli_fname : "/proc/self/exe";
  const std::string command = "addr2line -e '" + file + "' " + offset.str() + " 2>/dev/null";
  if (FILE* p = popen(command.c_str(), "r")) {
    char line[4096] = {};
    const bool got = std::fgets(line, sizeof line, p) != nullptr;
    pclose(p);
    std::string where(line);
    while (!where.empty() && (where.back() == '\n' || where.back() == '\r')) where.pop_back();
    if (got && !where.empty() && where[0] != '?') return " at " + where;
  }
  return " (code at " + file + "+" + offset.str() + ")";
}

namespace {

// The live allocation last checked, valid while nothing was freed since.
struct AllocationCache {
  uintptr_t base = 0, end = 0;
  uint64_t generation = ~uint64_t{0};
};
__thread AllocationCache t_cache;

void check_device(uintptr_t addr, size_t n, bool write, const void* pc) {
  const uint64_t gen = free_generation();
  if (t_cache.generation == gen && addr >= t_cache.base && addr + n <= t_cache.end) return;
  uintptr_t base = 0, end = 0;
  if (live_allocation_containing(reinterpret_cast<const void*>(addr), base, end) && addr + n <= end) {
    t_cache = {base, end, gen};
    return;
  }
  const std::string what = std::string("out-of-bounds device memory ") + (write ? "write" : "read") + ": " +
                           check_device_access(reinterpret_cast<const void*>(addr), n) + code_location(pc);
  if (in_kernel()) current_block().fault(what);
  std::fprintf(stderr, "CUDA emulator: host code touched device memory directly: %s\n", what.c_str());
  std::abort();
}

void check_shared(uintptr_t addr, size_t n, bool write, const void* pc) {
  const size_t offset = addr - reinterpret_cast<uintptr_t>(__bss_start);
  uint32_t* s = shadow() + offset;
  if (write) {
    check_shared_race(offset, n, true, g_phase, pc);
    for (size_t i = 0; i < n; ++i) s[i] = g_epoch;
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    if (s[i] != g_epoch) {
      std::ostringstream o;
      o << "reads " << n << " bytes of shared memory at 0x" << std::hex << addr
        << " that no thread of this block has written (uninitialised shared memory)" << code_location(pc);
      current_block().fault(o.str());
    }
  }
  check_shared_race(offset, n, false, g_phase, pc);
}

inline void check(uintptr_t addr, size_t n, bool write, const void* pc) {
  g_called = true;
  const auto* p = reinterpret_cast<const char*>(addr);
  if (is_device_address(p)) {
    check_device(addr, n, write, pc);
  } else if (in_kernel() && p >= __bss_start && p < _end) {
    check_shared(addr, n, write, pc);
  }
}

}  // namespace

bool memory_checks_enabled() { return g_called; }

void begin_shared_epoch() {
  if (++g_epoch == 0) {  // wrapped: forget every old write
    const size_t bytes = static_cast<size_t>(_end - __bss_start) * sizeof(uint32_t);
    mmap(shadow(), bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    g_epoch = 1;
  }
  begin_sync_phase();
}

void begin_sync_phase() {
  if (++g_phase == 0) {  // wrapped: forget every recorded access
    forget_shared_accesses();
    g_phase = 1;
  }
}

}  // namespace gantry::emu

#define GANTRY_EMU_CALLBACKS(n)                                                                                      \
  void __asan_load##n##_noabort(uintptr_t addr) { gantry::emu::check(addr, n, false, __builtin_return_address(0)); } \
  void __asan_store##n##_noabort(uintptr_t addr) { gantry::emu::check(addr, n, true, __builtin_return_address(0)); }

extern "C" {
GANTRY_EMU_CALLBACKS(1)
GANTRY_EMU_CALLBACKS(2)
GANTRY_EMU_CALLBACKS(4)
GANTRY_EMU_CALLBACKS(8)
GANTRY_EMU_CALLBACKS(16)
void __asan_loadN_noabort(uintptr_t addr, size_t n) { gantry::emu::check(addr, n, false, __builtin_return_address(0)); }
void __asan_storeN_noabort(uintptr_t addr, size_t n) { gantry::emu::check(addr, n, true, __builtin_return_address(0)); }
void __asan_handle_no_return() {}
// Initialisation-order checking is not done (globals are not instrumented).
void __asan_before_dynamic_init(const char*) {}
void __asan_after_dynamic_init() {}
}
