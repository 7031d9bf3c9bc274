#pragma once
// Digests that label and protect saved files: CRC-32 (zlib) of raw bytes, to detect corruption, and a
// 64-bit FNV-1a hash of a text, a short stable name for a configuration. Both print as lowercase hex.
#include <cstdint>
#include <string>
#include <string_view>

namespace gantry::io {

uint32_t crc32_of(const void* bytes, size_t size);
// 8 hex digits.
std::string crc32_hex(const void* bytes, size_t size);
// 16 hex digits.
std::string fnv1a64_hex(std::string_view text);

}  // namespace gantry::io
