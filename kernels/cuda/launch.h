#pragma once
// GANTRY_LAUNCH(grid, block, smem, stream, kernel)(args...) launches `kernel`: the triple-chevron
// launch under nvcc, the CPU emulator's launch (kernels/cuda/emu) when the sources are compiled as
// C++. The kernel comes last so template arguments with commas need no extra parentheses.
#if defined(__CUDACC__)
#define GANTRY_LAUNCH(grid, block, smem, stream, ...) __VA_ARGS__<<<grid, block, smem, stream>>>
#else
#include "kernels/cuda/emu/launch.h"
#define GANTRY_LAUNCH(grid, block, smem, stream, ...)                                                                \
  ::gantry::emu::Launch(                                                                                             \
      ::gantry::emu::LaunchConfig{grid, block, smem, stream, __FILE__, __LINE__, #__VA_ARGS__, __PRETTY_FUNCTION__}, \
      [=](const auto&... gantry_emu_args) { __VA_ARGS__(gantry_emu_args...); })
#endif
