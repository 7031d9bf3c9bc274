#pragma once
// Device atomics. Threads are fibers switched only at barriers and collectives, and blocks run one
// at a time, so a plain read-modify-write is indivisible here.
#include <type_traits>

#include "kernels/cuda/emu/thread_state.h"

namespace gantry::emu {

// Replaces *address by update(*address) and returns the old value. Marked atomic for the race
// check: atomics on the same address never race with one another.
template <typename T, typename Update>
std::enable_if_t<std::is_arithmetic_v<T>, T> read_modify_write(T* address, Update update) {
  ThreadState* t = gantry_emu_current_thread;
  if (t != nullptr) t->atomic = true;
  const T old = *address;
  *address = static_cast<T>(update(old));
  if (t != nullptr) t->atomic = false;
  return old;
}

}  // namespace gantry::emu

template <typename T>
T atomicAdd(T* address, T value) {
  return gantry::emu::read_modify_write(address, [=](T old) { return old + value; });
}

template <typename T>
T atomicSub(T* address, T value) {
  return gantry::emu::read_modify_write(address, [=](T old) { return old - value; });
}

template <typename T>
T atomicMin(T* address, T value) {
  return gantry::emu::read_modify_write(address, [=](T old) { return value < old ? value : old; });
}

template <typename T>
T atomicMax(T* address, T value) {
  return gantry::emu::read_modify_write(address, [=](T old) { return old < value ? value : old; });
}

template <typename T>
T atomicExch(T* address, T value) {
  return gantry::emu::read_modify_write(address, [=](T) { return value; });
}

template <typename T>
T atomicCAS(T* address, T compare, T value) {
  return gantry::emu::read_modify_write(address, [=](T old) { return old == compare ? value : old; });
}

inline void __threadfence() {}
inline void __threadfence_block() {}
