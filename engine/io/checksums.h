#pragma once
// MD5 (RFC 1321), SHA-1 and SHA-256 (FIPS 180-4), only to check downloaded and user-supplied files against their
// published checksums, not for anything that needs collision resistance. Written here rather than taken from OpenSSL so
// the engine and its installed package keep their short dependency list; both are a few dozen lines over one shared
// 64-byte block buffer, tested against the standards' vectors.
#include <cstddef>
#include <cstdint>
#include <string>

namespace gantry::io {

// The buffering and length padding both hashes share: 64-byte blocks, a 0x80 byte, zeros, then the
// message length in bits as 8 bytes (little-endian for MD5, big-endian for SHA-1).
class BlockHash {
 public:
  virtual ~BlockHash() = default;
  void update(const void* bytes, size_t size);
  // Lowercase hex; the object must not be updated afterwards.
  std::string hex_digest();

 protected:
  explicit BlockHash(bool big_endian) : big_endian_(big_endian) {}
  virtual void compress(const uint8_t* block) = 0;
  virtual std::string state_hex() const = 0;
  bool big_endian_;

 private:
  uint64_t total_bytes_ = 0;
  uint8_t buffer_[64];
  size_t buffered_ = 0;
};

class Md5 final : public BlockHash {
 public:
  Md5();

 private:
  void compress(const uint8_t* block) override;
  std::string state_hex() const override;
  uint32_t state_[4];
};

class Sha1 final : public BlockHash {
 public:
  Sha1();

 private:
  void compress(const uint8_t* block) override;
  std::string state_hex() const override;
  uint32_t state_[5];
};

// SHA-256 (FIPS 180-4): the digest pytorch-fid's weight file names carry the first 8 hex digits of.
class Sha256 final : public BlockHash {
 public:
  Sha256();

 private:
  void compress(const uint8_t* block) override;
  std::string state_hex() const override;
  uint32_t state_[8];
};

std::string md5_hex(const void* bytes, size_t size);
std::string sha256_hex(const void* bytes, size_t size);
// The digest of a whole file, read in chunks; throws gantry::Error naming the path when it cannot be read.
std::string md5_file_hex(const std::string& path);
std::string sha1_file_hex(const std::string& path);
std::string sha256_file_hex(const std::string& path);

}  // namespace gantry::io
