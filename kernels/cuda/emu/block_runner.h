#pragma once
// Runs the threads of one block as fibers on the calling host thread: each runs until it reaches a
// barrier, a warp-collective operation or its end, and the runner then picks the next in the
// schedule's order. A barrier is released when every thread of the block waits at the same one; a
// warp-collective when every lane of its mask has arrived. Anything else (a barrier reached by part
// of the block, lanes waiting for a lane that exited, threads at different barriers) is reported as
// a KernelFault naming the source line, instead of hanging.
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cuda/emu/fiber.h"
#include "kernels/cuda/emu/schedule.h"
#include "kernels/cuda/emu/thread_state.h"

namespace gantry::emu {

// A kernel broke a rule of the execution model or of memory safety; the message names the kernel.
class KernelFault : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

constexpr int kWarpSize = 32;
constexpr int kMaxThreadsPerBlock = 1024;

// Per-warp exchange area for collectives. Two copies, alternated per collective, so a lane that has
// already left one collective and deposits for the next cannot overwrite a value a slower lane of
// the same warp has yet to read.
struct WarpState {
  uint32_t arrived = 0;  // lanes waiting at the current collective
  uint32_t mask = 0;
  SourceSite site;
  int parity = 0;
  uint64_t value[2][kWarpSize] = {};
  float tile[2][3][256] = {};  // WMMA operands gathered from the lanes' fragments (A, B, C)
};

using KernelBody = void (*)(void* context);

struct BlockTask {
  const char* kernel = "";
  dim3 grid;
  dim3 block;
  uint3 block_idx{};
  KernelBody body = nullptr;
  void* context = nullptr;
};

class BlockRunner {
 public:
  BlockRunner();
  // Runs one block to the end; throws KernelFault. `rng` drives the random schedule.
  void run(const BlockTask& task, const Schedule& schedule, std::mt19937_64& rng);

  // Called from inside the fibers.
  void barrier(const SourceSite& site);
  // Arrives at a warp collective; returns once every lane of `mask` has arrived. `parity` is the
  // exchange copy this collective uses (read it before depositing).
  void warp_arrive(uint32_t mask, const SourceSite& site);
  WarpState& warp_of(const ThreadState& t) { return warps_[t.warp]; }
  [[noreturn]] void fault(const std::string& message);
  const BlockTask& task() const { return *task_; }
  int num_threads() const { return num_threads_; }

 private:
  static void fiber_main(void* runner);
  void resume(ThreadState& t);
  void suspend(ThreadState& t);
  void release_barrier_or_fail();
  void join_lane_clocks(int first_lane, uint32_t mask);
  [[noreturn]] void fail_block(const std::string& message);
  std::string describe_waiting() const;
  std::string where(const ThreadState& t) const;

  const BlockTask* task_ = nullptr;
  int num_threads_ = 0;
  std::vector<ThreadState> threads_;
  std::vector<WarpState> warps_;
  std::vector<int> order_;
  std::vector<int> free_stacks_;
  int allocated_stacks_ = 0;
  StackPool stacks_;
  FiberContext scheduler_;
  std::string fault_;
  bool faulted_ = false;
};

// The runner of the block now executing on this host thread (null outside kernels).
inline BlockRunner& current_block() { return *current_thread().block; }

}  // namespace gantry::emu
