#include "engine/io/digest.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <limits>

namespace gantry::io {

uint32_t crc32_of(const void* bytes, size_t size) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  const auto* p = static_cast<const Bytef*>(bytes);
  while (size > 0) {  // zlib takes a uInt length: feed very large buffers in chunks
    const uInt n = static_cast<uInt>(std::min<size_t>(size, std::numeric_limits<uInt>::max()));
    crc = ::crc32(crc, p, n);
    p += n;
    size -= n;
  }
  return static_cast<uint32_t>(crc);
}

std::string crc32_hex(const void* bytes, size_t size) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", crc32_of(bytes, size));
  return text;
}

std::string fnv1a64_hex(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

}  // namespace gantry::io
