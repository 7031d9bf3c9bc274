#pragma once
// What one emulated CUDA thread sees: its indices (threadIdx, blockIdx, blockDim, gridDim read these
// through the prelude's macros) and where it is in the block's schedule.
#include <vector_types.h>

#include <cstdint>

#include "kernels/cuda/emu/fiber.h"

namespace gantry::emu {

// A synchronisation point in the kernel's source, for error messages.
struct SourceSite {
  const char* what = "";  // "__syncthreads", "__shfl_xor_sync", ...
  const char* file = "";
  int line = 0;
};

enum class ThreadStatus { not_started, runnable, at_barrier, at_warp_sync, exited, faulted };

class BlockRunner;

struct ThreadState {
  uint3 thread_idx{};
  uint3 block_idx{};
  dim3 block_dim;
  dim3 grid_dim;
  int linear = 0;  // x + y * dim.x + z * dim.x * dim.y, as CUDA numbers lanes
  int lane = 0;
  int warp = 0;
  ThreadStatus status = ThreadStatus::not_started;
  SourceSite wait_site;  // where it waits (barrier or warp-collective)
  FiberContext context;
  int stack = -1;  // index into the runner's stack pool while started
  BlockRunner* block = nullptr;
  bool atomic = false;  // inside an atomic read-modify-write (races with nothing; shared_races.h)
  // Vector clock over the lanes of its warp, advanced by warp collectives (shared_races.h).
  uint32_t lane_clock[32] = {};
};

}  // namespace gantry::emu

// The thread the running fiber emulates; null outside kernels. __thread: no TLS wrapper calls.
extern __thread gantry::emu::ThreadState* gantry_emu_current_thread;

namespace gantry::emu {
inline ThreadState& current_thread() { return *gantry_emu_current_thread; }
inline bool in_kernel() { return gantry_emu_current_thread != nullptr; }
}  // namespace gantry::emu
