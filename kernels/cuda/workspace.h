#pragma once
// Scoped workspace for kernel temporaries: memory from the caching allocator for the current stream
// of a device, returned to the cache when the scope ends (so repeated steps reuse the same blocks).
#include <cstddef>

#include "kernels/cuda/caching_allocator.h"
#include "kernels/cuda/runtime.h"

namespace gantry::cuda {

class Workspace {
 public:
  Workspace(size_t nbytes, int device_index)
      : ptr_(cuda_allocate(nbytes, device_index, current_stream(device_index))), nbytes_(nbytes) {}
  ~Workspace() { cuda_deallocate(ptr_); }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  void* data() const { return ptr_; }
  template <typename T> T* as() const { return static_cast<T*>(ptr_); }
  size_t nbytes() const { return nbytes_; }

 private:
  void* ptr_;
  size_t nbytes_;
};

}  // namespace gantry::cuda
