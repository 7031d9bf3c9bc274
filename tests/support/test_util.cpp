#include "tests/support/test_util.h"

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

namespace gantry::testing {

std::vector<Device> all_devices() { return {Device(DeviceType::CPU), Device(DeviceType::CUDA, 0)}; }

std::string device_test_name(const ::testing::TestParamInfo<Device>& info) {
  return info.param.is_cpu() ? "cpu" : "cuda" + std::to_string(info.param.index);
}

void DeviceTest::SetUp() {
  if (GetParam().is_cuda() && cuda_device_count() <= GetParam().index)
    GTEST_SKIP() << "no CUDA device " << GetParam().str() << " on this machine (CUDA build: "
#ifdef GANTRY_WITH_CUDA
                 << "yes"
#else
                 << "no"
#endif
                 << ")";
}

Tensor random_uniform(const Shape& shape, uint64_t seed, double lo, double hi, DType dtype, Device device) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (double& x : v) x = dist(gen);
  return from_vector(v, shape).to(dtype).to(device);
}

Tensor random_away_from(const Shape& shape, uint64_t seed, const std::vector<double>& kinks, double gap,
                        double lo, double hi, DType dtype, Device device) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (double& x : v) {
    bool ok = false;
    while (!ok) {
      x = dist(gen);
      ok = true;
      for (double k : kinks)
        if (std::abs(x - k) < gap) ok = false;
    }
  }
  return from_vector(v, shape).to(dtype).to(device);
}

::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double rtol, double atol) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shape " << shape_str(actual.shape()) << " vs expected "
                                         << shape_str(expected.shape());
  const std::vector<double> a = to_vector<double>(actual), e = to_vector<double>(expected);
  double worst = -1;
  size_t worst_i = 0;
  size_t bad = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double err = std::abs(a[i] - e[i]);
    const double tol = atol + rtol * std::abs(e[i]);
    const bool nan_mismatch = std::isnan(a[i]) != std::isnan(e[i]);
    if (nan_mismatch || err > tol) {
      ++bad;
      if (nan_mismatch || err - tol > worst) {
        worst = nan_mismatch ? INFINITY : err - tol;
        worst_i = i;
      }
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << a.size() << " elements differ (rtol " << rtol
                                       << ", atol " << atol << "); worst at flat index " << worst_i << ": "
                                       << a[worst_i] << " vs expected " << e[worst_i];
}

std::string test_data_path(const std::string& name) { return std::string(GANTRY_TEST_DATA_DIR) + "/" + name; }

std::vector<std::string> names_of(const nn::NamedTensors& list) {
  std::vector<std::string> names;
  for (const auto& [name, t] : list) names.push_back(name);
  return names;
}

size_t count_nonempty_lines(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) n += !line.empty();
  return n;
}

}  // namespace gantry::testing
