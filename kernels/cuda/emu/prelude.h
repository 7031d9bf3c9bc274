#pragma once
// Forced-include prelude (-include kernels/cuda/emu/prelude.h) that lets g++ compile the CUDA sources
// in kernels/cuda as C++ for the CPU emulator. CUDA's own headers come first, with their host
// definitions; then the execution-space keywords are redefined for host code and the device
// built-ins (thread indices, barriers, shuffles, atomics, WMMA) are supplied by the emulator.
#if defined(__CUDACC__)
#error "the emulator prelude is for compiling CUDA sources as C++, not for nvcc"
#endif

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

#define GANTRY_CUDA_EMU 1

// Device and kernel functions are ordinary functions; __shared__ variables are static storage, which
// is per block because the emulator runs one block at a time (see block_runner.h, memory_checks.h).
#undef __global__
#undef __device__
#undef __host__
#undef __shared__
#undef __constant__
#undef __launch_bounds__
#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __constant__
#define __launch_bounds__(...)

#include "kernels/cuda/emu/atomics.h"
#include "kernels/cuda/emu/thread_state.h"
#include "kernels/cuda/emu/warp.h"
#include "kernels/cuda/emu/wmma.h"

#define threadIdx (::gantry::emu::current_thread().thread_idx)
#define blockIdx (::gantry::emu::current_thread().block_idx)
#define blockDim (::gantry::emu::current_thread().block_dim)
#define gridDim (::gantry::emu::current_thread().grid_dim)
#define warpSize (::gantry::emu::kWarpSize)

// CUDA's device math library overloads min/max for integers (host code has only std::min/max).
template <typename A, typename B, typename = std::enable_if_t<std::is_arithmetic_v<A> && std::is_arithmetic_v<B>>>
inline std::common_type_t<A, B> min(A a, B b) {
  return b < a ? b : a;
}
template <typename A, typename B, typename = std::enable_if_t<std::is_arithmetic_v<A> && std::is_arithmetic_v<B>>>
inline std::common_type_t<A, B> max(A a, B b) {
  return a < b ? b : a;
}

// CUDA's math library has these at global scope for device code.
using std::isfinite;
using std::isinf;
using std::isnan;
