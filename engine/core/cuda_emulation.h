#pragma once
// Whether the CUDA device is the CPU emulator (a GANTRY_CUDA=EMU build; docs/cuda-emulator.md) rather
// than a GPU. For tools and tests that size their work to it or label what they measure; the engine
// itself behaves the same on both.
namespace gantry {

bool cuda_device_is_emulated();
// Called by an emulator build's CUDA backend at load time.
void register_cuda_device_emulated();

}  // namespace gantry
