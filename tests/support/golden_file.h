#pragma once
// A PyTorch golden file (written by tests/golden/make_*_golden.py into tests/data): its tensors and
// metadata by name, the comparison rule of the golden suites, and loading a module's state from it.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/io/safetensors.h"
#include "engine/nn/module.h"

namespace gantry::testing {

class GoldenFile {
 public:
  GoldenFile() = default;
  // Loads tests/data/<file_name>.
  explicit GoldenFile(const std::string& file_name);

  const std::string& file_name() const { return file_name_; }
  const io::TensorFile& contents() const { return contents_; }

  // The tensor or metadata entry `key`; throws gantry::Error naming the file and the missing key.
  const Tensor& tensor(const std::string& key) const;
  // The tensor `key` as float64 values, and its first value.
  std::vector<double> values(const std::string& key) const;
  double scalar(const std::string& key) const;
  const std::string& meta(const std::string& key) const;
  double meta_double(const std::string& key) const;
  int64_t meta_int(const std::string& key) const;

  // The golden rule: |actual - expected| <= rtol * (|expected| + max(scale_floor, max |expected|))
  // element-wise, the scale keeping near-zero entries fair; actual is compared in the expected dtype.
  // int64 tensors must be equal. Shapes must agree and actual must be defined.
  ::testing::AssertionResult matches(const Tensor& actual, const std::string& name, double rtol,
                                     double scale_floor = 0) const;

  // Loads "<prefix><name>" into every entry of the module's state dict (strict).
  void load_into(nn::Module& module, const std::string& prefix) const;

 private:
  std::string file_name_;
  io::TensorFile contents_;
};

// tests/data/<file_name>, loaded on first use and shared by every test of the binary.
const GoldenFile& cached_golden_file(const std::string& file_name);

}  // namespace gantry::testing
