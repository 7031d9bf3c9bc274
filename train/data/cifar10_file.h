#pragma once
// The CIFAR-10 binary version: files of 3073-byte records <1 x label><1024 x R><1024 x G><1024 x B>,
// each colour plane 32 x 32 row-major (data_batch_1..5.bin: 10000 records each; test_batch.bin).
#include <cstdint>
#include <string>
#include <vector>

namespace gantry::data {

constexpr int64_t kCifar10Side = 32;
constexpr int64_t kCifar10ImageBytes = 3 * kCifar10Side * kCifar10Side;
constexpr int64_t kCifar10RecordBytes = 1 + kCifar10ImageBytes;
constexpr int64_t kCifar10Classes = 10;

struct Cifar10Records {
  std::vector<uint8_t> pixels;  // CHW per image, images back to back
  std::vector<uint8_t> labels;
  std::string md5;  // of the file
};

// Reads one batch file. Throws gantry::Error naming the file when its size is not a whole number of
// records (truncated) or a label is not in 0..9.
Cifar10Records read_cifar10_file(const std::string& path);

}  // namespace gantry::data
