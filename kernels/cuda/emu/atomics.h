#pragma once
// Device atomics. Threads are fibers switched only at barriers and collectives, and blocks run one
// at a time, so a plain read-modify-write is indivisible here.
#include <type_traits>

namespace gantry::emu {
template <typename T>
using AtomicValue = std::enable_if_t<std::is_arithmetic_v<T>, T>;
}  // namespace gantry::emu

template <typename T>
gantry::emu::AtomicValue<T> atomicAdd(T* address, T value) {
  const T old = *address;
  *address = static_cast<T>(old + value);
  return old;
}

template <typename T>
gantry::emu::AtomicValue<T> atomicSub(T* address, T value) {
  const T old = *address;
  *address = static_cast<T>(old - value);
  return old;
}

template <typename T>
gantry::emu::AtomicValue<T> atomicMin(T* address, T value) {
  const T old = *address;
  if (value < old) *address = value;
  return old;
}

template <typename T>
gantry::emu::AtomicValue<T> atomicMax(T* address, T value) {
  const T old = *address;
  if (value > old) *address = value;
  return old;
}

template <typename T>
gantry::emu::AtomicValue<T> atomicExch(T* address, T value) {
  const T old = *address;
  *address = value;
  return old;
}

template <typename T>
gantry::emu::AtomicValue<T> atomicCAS(T* address, T compare, T value) {
  const T old = *address;
  if (old == compare) *address = value;
  return old;
}

inline void __threadfence() {}
inline void __threadfence_block() {}
