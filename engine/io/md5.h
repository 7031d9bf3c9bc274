#pragma once
// MD5 (RFC 1321), only to check downloaded files against their published checksums; not for
// anything that needs collision resistance. Written here rather than taken from OpenSSL so the
// engine and its installed package keep their dependency list (a few dozen lines, tested against
// the RFC's vectors).
#include <cstddef>
#include <cstdint>
#include <string>

namespace gantry::io {

class Md5 {
 public:
  Md5();
  void update(const void* bytes, size_t size);
  // 32 lowercase hex digits; the object must not be updated afterwards.
  std::string hex_digest();

 private:
  void compress(const uint8_t* block);
  uint32_t state_[4];
  uint64_t total_bytes_ = 0;
  uint8_t buffer_[64];
  size_t buffered_ = 0;
};

std::string md5_hex(const void* bytes, size_t size);
// The md5 of a whole file, read in chunks; throws gantry::Error naming the path when it cannot be read.
std::string md5_file_hex(const std::string& path);

}  // namespace gantry::io
