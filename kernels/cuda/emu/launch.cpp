#include "kernels/cuda/emu/launch.h"

#include <algorithm>
#include <mutex>
#include <numeric>
#include <random>
#include <string_view>
#include <vector>

#include "kernels/cuda/emu/device_limits.h"
#include "kernels/cuda/emu/last_error.h"
#include "kernels/cuda/emu/memory_checks.h"
#include "kernels/cuda/emu/schedule.h"

namespace gantry::emu {

namespace {

std::string where(const LaunchRequest& r) {
  return "kernel " + r.kernel + " launched at " + r.config.file + ":" + std::to_string(r.config.line);
}

std::string dims(const dim3& d) {
  return "(" + std::to_string(d.x) + ", " + std::to_string(d.y) + ", " + std::to_string(d.z) + ")";
}

// Empty when the configuration can run on the emulated device; else why not.
std::string bad_configuration(const LaunchRequest& r, cudaError_t& code) {
  code = cudaErrorInvalidConfiguration;
  const unsigned b[3] = {r.config.block.x, r.config.block.y, r.config.block.z},
                 g[3] = {r.config.grid.x, r.config.grid.y, r.config.grid.z};
  for (int i = 0; i < 3; ++i) {
    if (b[i] == 0 || g[i] == 0) return "empty launch: grid " + dims(r.config.grid) + ", block " + dims(r.config.block);
    if (b[i] > static_cast<unsigned>(kMaxBlockDim[i]))
      return "block " + dims(r.config.block) + " exceeds the per-dimension limit (1024, 1024, 64)";
    if (g[i] > static_cast<unsigned>(kMaxGridDim[i]))
      return "grid " + dims(r.config.grid) + " exceeds the limit (2147483647, 65535, 65535)";
  }
  const unsigned long long threads = 1ull * r.config.block.x * r.config.block.y * r.config.block.z;
  if (threads > static_cast<unsigned long long>(kMaxThreadsPerBlock))
    return std::to_string(threads) + " threads per block (block " + dims(r.config.block) + "); at most 1024";
  if (r.config.smem > kSharedPerBlockDefault) {
    code = cudaErrorInvalidValue;
    return std::to_string(r.config.smem) + " bytes of dynamic shared memory; at most " +
           std::to_string(kSharedPerBlockDefault) + " per block without an opt-in";
  }
  return "";
}

std::mutex g_launch_mutex;  // one grid at a time in the process: __shared__ storage is per block in flight

}  // namespace

std::string kernel_display_name(const char* kernel_expression, const char* launching_function) {
  const std::string_view f(launching_function);
  const size_t with = f.find(" [with ");
  std::string name(kernel_expression);
  if (with != std::string_view::npos) name += std::string(f.substr(with));
  return name;
}

void launch(const LaunchRequest& r) {
  cudaError_t code = cudaSuccess;
  const std::string bad = bad_configuration(r, code);
  if (!bad.empty()) {
    set_last_error(code, where(r) + ": " + bad);
    return;
  }
  std::lock_guard<std::mutex> lock(g_launch_mutex);
  static BlockRunner* runner = new BlockRunner();  // keeps its fiber stacks between launches
  static uint64_t launch_count = 0;
  const Schedule schedule = current_schedule();
  std::mt19937_64 rng(schedule.seed * 0x9E3779B97F4A7C15ull + ++launch_count);
  const uint64_t blocks = 1ull * r.config.grid.x * r.config.grid.y * r.config.grid.z;
  std::vector<uint64_t> order;
  if (schedule.kind != ScheduleKind::forward) {
    order.resize(blocks);
    std::iota(order.begin(), order.end(), 0);
    if (schedule.kind == ScheduleKind::reverse) std::reverse(order.begin(), order.end());
    else std::shuffle(order.begin(), order.end(), rng);
  }
  BlockTask task;
  task.kernel = r.kernel.c_str();
  task.grid = r.config.grid;
  task.block = r.config.block;
  task.body = r.body;
  task.context = r.context;
  try {
    for (uint64_t i = 0; i < blocks; ++i) {
      const uint64_t b = order.empty() ? i : order[i];
      task.block_idx = uint3{static_cast<unsigned>(b % r.config.grid.x),
                             static_cast<unsigned>(b / r.config.grid.x % r.config.grid.y),
                             static_cast<unsigned>(b / (1ull * r.config.grid.x * r.config.grid.y))};
      begin_shared_epoch();
      runner->run(task, schedule, rng);
    }
  } catch (const KernelFault& f) {
    set_last_error(cudaErrorLaunchFailure, std::string(f.what()) + " (launched at " + r.config.file + ":" +
                                               std::to_string(r.config.line) + ", schedule " + schedule_name(schedule) +
                                               ")");
  }
}

}  // namespace gantry::emu
