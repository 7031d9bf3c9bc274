#pragma once
// Shared test helpers: the device list of the device-parameterised suites and random inputs.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/nn/module.h"
#include "engine/ops/ops.h"

namespace gantry {
// Test names and failure messages show "cpu"/"cuda:0" rather than raw bytes.
inline void PrintTo(const Device& d, std::ostream* os) { *os << d.str(); }
}  // namespace gantry

namespace gantry::testing {

// Every device a parameterised suite runs on: CPU always, cuda:0 too (skipped without a GPU).
std::vector<Device> all_devices();
std::string device_test_name(const ::testing::TestParamInfo<Device>& info);

// Base fixture: GetParam() is the device; CUDA instances skip with a message when there is no GPU.
class DeviceTest : public ::testing::TestWithParam<Device> {
 protected:
  void SetUp() override;
  Device device() const { return GetParam(); }
};

#define GANTRY_INSTANTIATE_DEVICE_TEST(Suite) \
  INSTANTIATE_TEST_SUITE_P(Devices, Suite, ::testing::ValuesIn(::gantry::testing::all_devices()), \
                           ::gantry::testing::device_test_name)

// Uniform random values in [lo, hi) from a seeded std::mt19937_64 (independent of the engine's RNG).
Tensor random_uniform(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0,
                      DType dtype = DType::f64, Device device = kCPU);
// Values in [lo, hi) kept at least `gap` away from every point in `kinks` (for ReLU-like ops).
Tensor random_away_from(const Shape& shape, uint64_t seed, const std::vector<double>& kinks, double gap,
                        double lo = -1.0, double hi = 1.0, DType dtype = DType::f64, Device device = kCPU);

// Element-wise |a - b| <= atol + rtol |b| on host copies; reports the worst element.
::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double rtol = 1e-5,
                                     double atol = 1e-8);

std::string test_data_path(const std::string& name);

// The non-empty lines of a text file (0 when it cannot be read): JSON-lines logs' record counts.
size_t count_nonempty_lines(const std::string& path);

// A new autograd leaf holding t's values (the inputs of gradient checks and backward tests).
inline Tensor leaf(const Tensor& t) { return t.detach().set_requires_grad(true); }

// The names of a state dict, named_parameters() or named_buffers(), in order.
std::vector<std::string> names_of(const nn::NamedTensors& list);

}  // namespace gantry::testing
