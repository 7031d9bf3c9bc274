#pragma once
// Data races on shared memory inside a block, found by happens-before: two accesses to the same byte
// by different threads, at least one a write, with no synchronisation ordering them. What orders
// them here is what orders them on a GPU: a `__syncthreads` both threads passed between the accesses
// (a new synchronisation phase), or a warp collective (`__syncwarp`, a shuffle, a WMMA operation) that
// both lanes joined in between (a vector clock over the warp's lanes). Atomics race with nothing.
// Called from the shared-memory memory check (memory_checks.cpp) for every instrumented access.
#include <cstddef>
#include <cstdint>

namespace gantry::emu {

// Checks the access of `n` bytes at byte `offset` of the shared-memory shadow by the running
// thread against the earlier accesses of its block, faults on a race, and records it. `phase` grows
// at every block start and every barrier release (memory_checks.h): accesses in different phases
// are ordered.
void check_shared_race(size_t offset, size_t n, bool write, uint32_t phase, const void* pc);

// Forgets every recorded access (the phases wrapped).
void forget_shared_accesses();

}  // namespace gantry::emu
