#include "train/data/cifar10_file.h"

#include <cstring>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/checksums.h"

namespace gantry::data {

Cifar10Records read_cifar10_file(const std::string& path) {
  const std::string bytes = io::read_file(path);
  const int64_t size = static_cast<int64_t>(bytes.size());
  GANTRY_CHECK(size > 0 && size % kCifar10RecordBytes == 0, "CIFAR-10 file '", path, "': ", size,
               " bytes is not a whole number of ", kCifar10RecordBytes, "-byte records (truncated?)");
  const int64_t n = size / kCifar10RecordBytes;
  Cifar10Records out;
  out.pixels.resize(static_cast<size_t>(n * kCifar10ImageBytes));
  out.labels.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const char* record = bytes.data() + i * kCifar10RecordBytes;
    const uint8_t label = static_cast<uint8_t>(record[0]);
    GANTRY_CHECK(label < kCifar10Classes, "CIFAR-10 file '", path, "': record ", i, " has label ", int{label},
                 ", expected 0..9");
    out.labels[static_cast<size_t>(i)] = label;
    std::memcpy(out.pixels.data() + i * kCifar10ImageBytes, record + 1, kCifar10ImageBytes);
  }
  out.md5 = io::md5_hex(bytes.data(), bytes.size());
  return out;
}

}  // namespace gantry::data
