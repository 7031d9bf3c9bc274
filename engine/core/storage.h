#pragma once
// Storage: a device buffer shared by every view of it. Each device type has one Allocator; the CUDA
// backend registers its caching allocator at load time.
#include <cstddef>
#include <functional>
#include <memory>

#include "engine/core/device.h"

namespace gantry {

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes, Device device) = 0;
  virtual void deallocate(void* ptr, Device device) = 0;
};

// Returns the allocator for a device type, or throws naming the missing backend.
Allocator& allocator_for(DeviceType type);
void register_allocator(DeviceType type, Allocator* allocator);

class Storage {
 public:
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
};

}  // namespace gantry
