#pragma once
// Kernel launches for the emulator: GANTRY_LAUNCH(grid, block, smem, stream, kernel)(args...) (see
// kernels/cuda/launch.h) becomes Launch(config, invoker)(args...), which copies the arguments and
// runs the grid before it returns. Launch errors (a bad configuration) and faults found while running it become the
// runtime's last error, as cudaGetLastError() reports launch errors on a GPU.
#include <cuda_runtime.h>

#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "kernels/cuda/emu/block_runner.h"

namespace gantry::emu {

// Where and how a kernel is launched, as GANTRY_LAUNCH writes it.
struct LaunchConfig {
  dim3 grid;
  dim3 block;
  size_t smem = 0;
  cudaStream_t stream = nullptr;
  const char* file = "";
  int line = 0;
  const char* kernel = "";    // the kernel expression as written
  const char* launcher = "";  // __PRETTY_FUNCTION__ of the launching function
};

struct LaunchRequest {
  LaunchConfig config;
  std::string kernel;  // display name (kernel_display_name)
  KernelBody body = nullptr;
  void* context = nullptr;
};

// Checks the configuration, runs every block and records the outcome as the last error.
void launch(const LaunchRequest& request);

// "kcenter_kernel<T> [with T = float]": the kernel as written at the launch site plus the template
// arguments of the function that launches it (from its __PRETTY_FUNCTION__).
std::string kernel_display_name(const char* kernel_expression, const char* launching_function);

// The launch arguments, copied as launched (as a launch copies them to the device). Each emulated
// thread calls the kernel with its own copies, so kernels may modify their by-value parameters and
// template kernels deduce their arguments exactly as in a triple-chevron launch.
template <typename Invoke, typename... Args>
struct KernelCall {
  Invoke invoke;
  std::tuple<Args...> args;
  static void run(void* self) {
    auto* call = static_cast<KernelCall*>(self);
    std::apply([call](const Args&... a) { call->invoke(a...); }, call->args);
  }
};

// GANTRY_LAUNCH(...) evaluates to one of these; its call operator takes the kernel's arguments.
template <typename Invoke>
class Launch {
 public:
  Launch(const LaunchConfig& config, Invoke invoke) : config_(config), invoke_(invoke) {}

  template <typename... Args>
  void operator()(Args&&... args) const {
    KernelCall<Invoke, std::decay_t<Args>...> call{invoke_, {std::forward<Args>(args)...}};
    LaunchRequest r;
    r.config = config_;
    r.kernel = kernel_display_name(config_.kernel, config_.launcher);
    r.body = &KernelCall<Invoke, std::decay_t<Args>...>::run;
    r.context = &call;
    launch(r);
  }

 private:
  LaunchConfig config_;
  Invoke invoke_;
};

}  // namespace gantry::emu
