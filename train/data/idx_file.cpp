#include "train/data/idx_file.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "engine/core/error.h"
#include "engine/io/checksums.h"

namespace gantry::data {

namespace {

using GzFile = std::unique_ptr<gzFile_s, int (*)(gzFile)>;

// Reads up to `size` bytes; returns how many were read. gzread also reads uncompressed files as they
// are, so one path serves raw and .gz files.
size_t read_some(gzFile file, uint8_t* out, size_t size, const std::string& path) {
  size_t done = 0;
  while (done < size) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(size - done, 1u << 30));
    const int n = gzread(file, out + done, chunk);
    if (n < 0) {
      int code = 0;
      GANTRY_FAIL("idx file '", path, "': cannot decompress (", gzerror(file, &code), ")");
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

std::string hex32(uint32_t v) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%08x", v);
  return text;
}

}  // namespace

IdxArray read_idx_file(const std::string& path, int expected_dims) {
  GzFile file(gzopen(path.c_str(), "rb"), &gzclose);
  GANTRY_CHECK(file != nullptr, "idx file '", path, "': cannot open");
  io::Md5 md5;
  uint8_t magic_bytes[4];
  GANTRY_CHECK(read_some(file.get(), magic_bytes, 4, path) == 4, "idx file '", path,
               "': truncated (shorter than the 4-byte magic number)");
  md5.update(magic_bytes, 4);
  const uint32_t magic =
      uint32_t{magic_bytes[0]} << 24 | uint32_t{magic_bytes[1]} << 16 | uint32_t{magic_bytes[2]} << 8 | magic_bytes[3];
  const uint32_t expected_magic = 0x00000800u | static_cast<uint32_t>(expected_dims);
  GANTRY_CHECK(magic == expected_magic, "idx file '", path, "': magic number ", hex32(magic), ", expected ",
               hex32(expected_magic), expected_dims == 3 ? " (unsigned-byte images)" : " (unsigned-byte labels)");
  IdxArray out;
  size_t count = 1;
  for (int d = 0; d < expected_dims; ++d) {
    uint8_t b[4];
    GANTRY_CHECK(read_some(file.get(), b, 4, path) == 4, "idx file '", path, "': truncated header");
    md5.update(b, 4);
    const int64_t dim = int64_t{b[0]} << 24 | int64_t{b[1]} << 16 | int64_t{b[2]} << 8 | b[3];
    out.dims.push_back(dim);
    count *= static_cast<size_t>(dim);
  }
  GANTRY_CHECK(count <= (size_t{1} << 36), "idx file '", path, "': implausible dimensions (", count, " bytes)");
  out.bytes.resize(count);
  const size_t got = read_some(file.get(), out.bytes.data(), count, path);
  GANTRY_CHECK(got == count, "idx file '", path, "': truncated: the header promises ", count,
               " bytes of data, the file holds ", got);
  uint8_t extra;
  GANTRY_CHECK(read_some(file.get(), &extra, 1, path) == 0, "idx file '", path, "': trailing bytes after the ", count,
               " the header describes");
  md5.update(out.bytes.data(), out.bytes.size());
  out.md5 = md5.hex_digest();
  return out;
}

}  // namespace gantry::data
