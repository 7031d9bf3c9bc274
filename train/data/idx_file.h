#pragma once
// The idx format of MNIST and Fashion-MNIST: a big-endian header (two zero bytes, the element type
// 0x08 = unsigned byte, the number of dimensions, then each dimension as a 32-bit count) followed by
// the elements. Images are 0x00000803 (n, rows, cols), labels 0x00000801 (n). Files may be gzipped.
#include <cstdint>
#include <string>
#include <vector>

namespace gantry::data {

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> bytes;  // the elements, row-major
  std::string md5;             // of the raw (decompressed) file contents
};

// Reads `path` (raw or .gz) and checks it holds an unsigned-byte idx array of `expected_dims`
// dimensions (3: images, 1: labels). Throws gantry::Error naming the file for a wrong magic number, a
// truncated file or trailing bytes.
IdxArray read_idx_file(const std::string& path, int expected_dims);

}  // namespace gantry::data
