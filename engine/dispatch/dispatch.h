#pragma once
// Per-device kernel tables. An op declares a table once:
//   engine/dispatch/kernels.h:   GANTRY_DECLARE_DISPATCH(UnaryKernel, unary_kernel);
//   engine/dispatch/kernels.cpp: GANTRY_DEFINE_DISPATCH(UnaryKernel, unary_kernel);
// and each backend fills its slot from its own translation unit at load time:
//   kernels/cpu/unary.cpp:       GANTRY_REGISTER_KERNEL(unary_kernel, CPU, &cpu_unary);
// The table is constant-initialised, so registration order across translation units is safe.
// Calling a slot that no backend filled throws "no CUDA kernel for unary_kernel".
#include <type_traits>
#include <utility>

#include "engine/core/device.h"
#include "engine/core/error.h"

namespace gantry {

template <typename Fn>
struct DispatchStub {
  const char* name;
  Fn table[kNumDeviceTypes] = {};

  constexpr explicit DispatchStub(const char* n) : name(n) {}

  Fn get(DeviceType type) const {
    Fn f = table[static_cast<int>(type)];
    GANTRY_CHECK(f != nullptr, "no ", device_type_name(type), " kernel for ", name);
    return f;
  }
  bool has(DeviceType type) const { return table[static_cast<int>(type)] != nullptr; }
  template <typename... Args>
  decltype(auto) operator()(DeviceType type, Args&&... args) const {
    return get(type)(std::forward<Args>(args)...);
  }
};

struct KernelRegistrar {
  template <typename Fn>
  KernelRegistrar(DispatchStub<Fn>& stub, DeviceType type, Fn fn) {
    stub.table[static_cast<int>(type)] = fn;
  }
};

}  // namespace gantry

#define GANTRY_DECLARE_DISPATCH(fn_type, name) extern ::gantry::DispatchStub<fn_type> name
#define GANTRY_DEFINE_DISPATCH(fn_type, name) constinit ::gantry::DispatchStub<fn_type> name{#name}
#define GANTRY_REGISTER_KERNEL(name, device, fn)                                       \
  [[maybe_unused]] static const ::gantry::KernelRegistrar gantry_registrar_##name##_##device{ \
      name, ::gantry::DeviceType::device, static_cast<std::remove_reference_t<decltype(name.table[0])>>(fn)}
