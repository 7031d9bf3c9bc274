#include "kernels/cpu/scratch_buffer.h"

#include <cstdlib>
#include <memory>

#include "engine/core/error.h"

namespace gantry::cpu {
namespace {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

struct Buffer {
  std::unique_ptr<void, FreeDeleter> data;
  size_t capacity = 0;
};

}  // namespace

void* scratch_bytes(ScratchSlot slot, size_t bytes) {
  thread_local Buffer buffers[static_cast<int>(ScratchSlot::count)];
  Buffer& b = buffers[static_cast<int>(slot)];
  if (bytes > b.capacity) {
    b.data.reset();  // free first: the old contents are not kept
    void* p = nullptr;
    GANTRY_CHECK(posix_memalign(&p, 64, bytes) == 0, "CPU scratch: out of memory allocating ", bytes, " bytes");
    b.data.reset(p);
    b.capacity = bytes;
  }
  return b.data.get();
}

}  // namespace gantry::cpu
