#include "tests/support/golden_file.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <vector>

#include "engine/core/error.h"
#include "engine/ops/ops.h"
#include "tests/support/test_util.h"

namespace gantry::testing {

GoldenFile::GoldenFile(const std::string& file_name)
    : file_name_(file_name), contents_(io::load_safetensors(test_data_path(file_name))) {}

const Tensor& GoldenFile::tensor(const std::string& key) const {
  for (const auto& [name, t] : contents_.tensors)
    if (name == key) return t;
  GANTRY_FAIL("golden file ", file_name_, ": no tensor named '", key, "' (", contents_.tensors.size(), " tensors)");
}

std::vector<double> GoldenFile::values(const std::string& key) const {
  return to_vector<double>(tensor(key).to(DType::f64));
}

double GoldenFile::scalar(const std::string& key) const {
  const std::vector<double> v = values(key);
  GANTRY_CHECK(!v.empty(), "golden file ", file_name_, ": tensor '", key, "' is empty");
  return v.front();
}

const GoldenFile& cached_golden_file(const std::string& file_name) {
  static std::mutex mutex;
  static std::map<std::string, GoldenFile> files;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = files.find(file_name);
  if (it == files.end()) it = files.emplace(file_name, GoldenFile(file_name)).first;
  return it->second;
}

const std::string& GoldenFile::meta(const std::string& key) const {
  const auto it = contents_.metadata.find(key);
  GANTRY_CHECK(it != contents_.metadata.end(), "golden file ", file_name_, ": no metadata entry '", key, "' (",
               contents_.metadata.size(), " entries)");
  return it->second;
}

double GoldenFile::meta_double(const std::string& key) const { return std::stod(meta(key)); }

int64_t GoldenFile::meta_int(const std::string& key) const { return std::stoll(meta(key)); }

::testing::AssertionResult GoldenFile::matches(const Tensor& actual, const std::string& name, double rtol,
                                               double scale_floor) const {
  const Tensor& expected = tensor(name);
  if (!actual.defined()) return ::testing::AssertionFailure() << name << ": the actual tensor is undefined";
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << name << ": shape " << shape_str(actual.shape()) << " vs expected "
                                         << shape_str(expected.shape());
  if (expected.dtype() == DType::i64) {
    const std::vector<int64_t> a = to_vector<int64_t>(actual), e = to_vector<int64_t>(expected);
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i] != e[i] && bad++ == 0) first = i;
    if (bad == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << name << ": " << bad << " of " << a.size()
                                         << " int64 elements differ; first at flat index " << first << ": " << a[first]
                                         << " vs expected " << e[first];
  }
  double scale = scale_floor;
  for (double v : to_vector<double>(expected.to(DType::f64))) scale = std::max(scale, std::abs(v));
  const Tensor in_dtype = actual.dtype() == expected.dtype() ? actual : actual.to(expected.dtype());
  ::testing::AssertionResult result = all_close(in_dtype, expected, rtol, rtol * scale);
  if (!result) return ::testing::AssertionFailure() << name << " (scale " << scale << "): " << result.message();
  return result;
}

void GoldenFile::load_into(nn::Module& module, const std::string& prefix) const {
  nn::StateDict state;
  for (const auto& [name, t] : module.state_dict()) state.emplace_back(name, tensor(prefix + name));
  module.load_state_dict(state);
}

}  // namespace gantry::testing
