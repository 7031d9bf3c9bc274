#pragma once
// Memory checks for emulated kernels. With GANTRY_CUDA_EMU_CHECKS the kernel sources are compiled
// with GCC's -fsanitize=kernel-address in outline mode, which calls __asan_{load,store}N_noabort
// before every memory access; the emulator implements those callbacks (memory_checks.cpp), no
// sanitizer runtime is linked. Inside a kernel they check:
//  - device memory: the access must lie inside a live cudaMalloc allocation;
//  - shared memory: a read must come after some thread of the same block wrote those bytes.
// Shared memory is recognised by address: __shared__ variables are static storage (.bss), the only
// static data device code can reach. Each block gets a new epoch, and a per-byte shadow records the
// epoch of the last write, so nothing is cleared between blocks.
#include <cstdint>
#include <string>

namespace gantry::emu {

// True when the running binary's kernels were compiled with the checks.
bool memory_checks_enabled();

// Starts a new shared-memory epoch: nothing is written yet for the next block. Also a new
// synchronisation phase.
void begin_shared_epoch();
// Starts a new synchronisation phase of the running block: a barrier was released, so what its
// threads did before is ordered before what they do next (shared_races.h).
void begin_sync_phase();

// " at file:line" of the instrumented access whose return address is `pc` (addr2line when
// installed), else the code address to give it by hand; empty for a null `pc`.
std::string code_location(const void* pc);

}  // namespace gantry::emu
