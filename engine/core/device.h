#pragma once
// Devices: `cpu` and `cuda:N`. Moves between devices are always explicit (Tensor::to).
#include <charconv>
#include <cstdint>
#include <string>
#include <system_error>

#include "engine/core/error.h"

namespace gantry {

enum class DeviceType : uint8_t { CPU = 0, CUDA = 1 };
constexpr int kNumDeviceTypes = 2;

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  constexpr Device() = default;
  constexpr Device(DeviceType t, int i = 0) : type(t), index(i) {}
  // Parses "cpu", "cuda", "cuda:1".
  static Device parse(const std::string& s);

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
};

inline const char* device_type_name(DeviceType t) { return t == DeviceType::CPU ? "CPU" : "CUDA"; }

inline Device Device::parse(const std::string& s) {
  if (s == "cpu") return Device(DeviceType::CPU);
  if (s == "cuda") return Device(DeviceType::CUDA, 0);
  if (s.rfind("cuda:", 0) == 0) {
    const std::string idx = s.substr(5);
    int index = 0;
    const auto [end, ec] = std::from_chars(idx.data(), idx.data() + idx.size(), index);
    GANTRY_CHECK(!idx.empty() && idx.find_first_not_of("0123456789") == std::string::npos,
                 "invalid device '", s, "': expected cpu, cuda or cuda:N");
    GANTRY_CHECK(ec == std::errc() && end == idx.data() + idx.size(), "invalid device '", s,
                 "': the index is too large");
    return Device(DeviceType::CUDA, index);
  }
  GANTRY_FAIL("invalid device '", s, "': expected cpu, cuda or cuda:N");
}

inline const Device kCPU{DeviceType::CPU, 0};

}  // namespace gantry

namespace gantry {
// Number of usable CUDA devices: 0 in a CPU-only build or on a machine without a GPU.
int cuda_device_count();
// Set by the CUDA backend at load time.
void register_cuda_device_count(int (*fn)());
}  // namespace gantry
