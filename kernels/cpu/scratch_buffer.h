#pragma once
// Per-thread scratch memory for CPU kernel temporaries (column matrices, transposed operands). Each
// slot is a grow-only, 64-byte aligned buffer kept for the thread's life, so a training step that
// repeats the same shapes allocates nothing and zero-fills nothing after its first call. A kernel
// owns the slots it takes for the duration of one call and must not call another kernel that takes
// the same slot.
#include <cstddef>

namespace gantry::cpu {

enum class ScratchSlot { columns = 0, transposed = 1, padded = 2, count = 3 };

// At least `bytes` of uninitialised memory, valid until the next call with the same slot on this thread.
void* scratch_bytes(ScratchSlot slot, size_t bytes);

template <typename T>
T* scratch(ScratchSlot slot, size_t elements) {
  return static_cast<T*>(scratch_bytes(slot, elements * sizeof(T)));
}

}  // namespace gantry::cpu
