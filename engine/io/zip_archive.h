#pragma once
// Zip archives, the container of NumPy .npz files and of PyTorch's torch.save since 1.6. The writer
// makes stored (uncompressed) members without timestamps or ZIP64. The reader takes members stored
// or deflated (zlib), with or without ZIP64 records, checks every offset and size against the bytes
// and each member's CRC-32, and throws gantry::Error naming the archive, the member and the byte
// offset; it never reads out of bounds. Encrypted, multi-disk and other compression methods are
// refused.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::io {

class ZipWriter {
 public:
  // `source` names the archive in errors (a member over the 4 GiB a zip without ZIP64 holds).
  explicit ZipWriter(std::string source) : source_(std::move(source)) {}
  void add_stored(const std::string& name, std::string_view data);
  // The whole archive: the members, the central directory and its end record.
  std::string finish();

 private:
  std::string source_;
  std::string archive_, directory_;
  uint16_t entries_ = 0;
};

struct ZipMember {
  std::string name;
  uint16_t method = 0;  // 0 stored, 8 deflated
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;
  uint64_t data_offset = 0;  // of the member's (compressed) bytes in the archive
};

class ZipReader {
 public:
  // Reads the central directory; `bytes` must outlive the reader. `source` names the archive in errors.
  ZipReader(std::string_view bytes, std::string source);

  const std::vector<ZipMember>& members() const { return members_; }
  // The member named `name`, or nullptr.
  const ZipMember* find(std::string_view name) const;
  // The member's uncompressed bytes, CRC-checked.
  std::string read(const ZipMember& member) const;
  const std::string& source() const { return source_; }

 private:
  std::string_view bytes_;
  std::string source_;
  std::vector<ZipMember> members_;
};

// Whether `bytes` begin as a zip archive does (a local file header, "PK\3\4").
bool looks_like_zip(std::string_view bytes);

}  // namespace gantry::io
