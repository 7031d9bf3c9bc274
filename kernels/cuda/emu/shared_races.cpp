#include "kernels/cuda/emu/shared_races.h"

#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "kernels/cuda/emu/block_runner.h"
#include "kernels/cuda/emu/memory_checks.h"

// Linker-defined bounds of the executable's zero-initialised static data (where __shared__ lives).
extern "C" char __bss_start[];
extern "C" char _end[];

namespace gantry::emu {

namespace {

// One access to a byte, 8 bytes so that the shadow of a tile stays in cache: the phase it happened
// in (0: none), the thread (10 bits: at most 1024 threads) and that thread's own warp-clock component
// (22 bits; it counts the collectives of the block so far, far fewer than 4M in any kernel).
constexpr int kClockBits = 22;
constexpr uint32_t kClockMask = (uint32_t{1} << kClockBits) - 1;

struct Access {
  uint32_t phase = 0;
  uint32_t thread_clock = 0;
  int thread() const { return static_cast<int>(thread_clock >> kClockBits); }
  uint32_t clock() const { return thread_clock & kClockMask; }
};

// Per byte of .bss: the last write and up to two reads since, by different threads.
struct ByteHistory {
  Access write;
  Access read[2];
  bool operator==(const ByteHistory& o) const {
    return write.phase == o.write.phase && write.thread_clock == o.write.thread_clock &&
           read[0].phase == o.read[0].phase && read[0].thread_clock == o.read[0].thread_clock &&
           read[1].phase == o.read[1].phase && read[1].thread_clock == o.read[1].thread_clock;
  }
};

// Where each byte was last written, for the report only (kept apart: touched by writes alone).
struct Shadows {
  ByteHistory* history = nullptr;
  const void** write_pc = nullptr;
};
Shadows g_shadows;

size_t bss_bytes() { return static_cast<size_t>(_end - __bss_start); }

void* map_zeroed(void* at, size_t bytes) {
  const int fixed = at != nullptr ? MAP_FIXED : 0;
  void* m = mmap(at, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | fixed, -1, 0);
  if (m == MAP_FAILED) {
    std::fprintf(stderr, "CUDA emulator: cannot map the shared-memory race shadow\n");
    std::abort();
  }
  return m;
}

Shadows& shadows() {
  if (g_shadows.history == nullptr) {
    g_shadows.history = static_cast<ByteHistory*>(map_zeroed(nullptr, bss_bytes() * sizeof(ByteHistory)));
    g_shadows.write_pc = static_cast<const void**>(map_zeroed(nullptr, bss_bytes() * sizeof(void*)));
  }
  return g_shadows;
}

// Whether `earlier` happens before an access by `t` now.
inline bool ordered(const Access& earlier, const ThreadState& t, uint32_t phase) {
  if (earlier.phase != phase) return true;  // another block, or a barrier since (phases only grow)
  const int other = earlier.thread();
  if (other == t.linear) return true;
  return other / kWarpSize == t.warp && (t.lane_clock[other % kWarpSize] & kClockMask) > earlier.clock();
}

[[noreturn]] void report(const Access& earlier, const void* earlier_pc, bool earlier_wrote, bool write,
                         uintptr_t addr, size_t n, const void* pc) {
  std::ostringstream o;
  o << "shared-memory race on " << n << " bytes at 0x" << std::hex << addr << std::dec << ": thread "
    << earlier.thread() << (earlier_wrote ? " wrote them" + code_location(earlier_pc) : std::string(" read them"))
    << ", then this thread " << (write ? "writes" : "reads") << " them" << code_location(pc)
    << ", with no __syncthreads (or, in one warp, __syncwarp or a collective of both lanes) between";
  current_block().fault(o.str());
}

// One byte's check and update; `addr`, `n` and `pc` for the report.
inline void check_byte(ByteHistory& h, const ThreadState& t, const Access& now, bool write, const void** write_pc,
                       uintptr_t addr, size_t n, const void* pc) {
  const uint32_t phase = now.phase;
  if (!ordered(h.write, t, phase)) report(h.write, *write_pc, true, write, addr, n, pc);
  if (write) {
    for (const Access& r : h.read) {
      if (!ordered(r, t, phase)) report(r, nullptr, false, true, addr, n, pc);
    }
    h.write = now;
    *write_pc = pc;
    h.read[0].phase = h.read[1].phase = 0;  // ordered before this write, so before whatever it orders
    return;
  }
  // Keep two reads by different threads: any later writer differs from at least one of them. Once
  // two other threads' reads of this phase are kept, nothing changes.
  Access* slot = nullptr;
  for (Access& r : h.read) {
    if (r.phase == phase && r.thread() == t.linear) slot = &r;
  }
  for (Access& r : h.read) {
    if (slot == nullptr && ordered(r, t, phase)) slot = &r;
  }
  if (slot != nullptr) *slot = now;
}

}  // namespace

void check_shared_race(size_t offset, size_t n, bool write, uint32_t phase, const void* pc) {
  ThreadState& t = current_thread();
  if (t.atomic) return;
  Shadows& s = shadows();
  const Access now{phase, (static_cast<uint32_t>(t.linear) << kClockBits) | (t.lane_clock[t.lane] & kClockMask)};
  const uintptr_t addr = reinterpret_cast<uintptr_t>(__bss_start) + offset;
  ByteHistory* h = s.history + offset;
  // Bytes accessed together usually share one history: checked once, the outcome copied.
  const ByteHistory first = h[0];
  check_byte(h[0], t, now, write, &s.write_pc[offset], addr, n, pc);
  for (size_t i = 1; i < n; ++i) {
    if (h[i] == first) {
      h[i] = h[0];
      if (write) s.write_pc[offset + i] = pc;
    } else {
      check_byte(h[i], t, now, write, &s.write_pc[offset + i], addr, n, pc);
    }
  }
}

void forget_shared_accesses() {
  if (g_shadows.history == nullptr) return;
  map_zeroed(g_shadows.history, bss_bytes() * sizeof(ByteHistory));
  map_zeroed(g_shadows.write_pc, bss_bytes() * sizeof(void*));
}

}  // namespace gantry::emu
