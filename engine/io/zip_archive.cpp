#include "engine/io/zip_archive.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "engine/core/error.h"
#include "engine/io/digest.h"

namespace gantry::io {

namespace {

constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kEndOfDirectory = 0x06054b50;
constexpr uint32_t kZip64EndOfDirectory = 0x06064b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr size_t kLocalHeaderSize = 30;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kEndOfDirectorySize = 22;
constexpr size_t kZip64EndOfDirectorySize = 56;
constexpr size_t kZip64LocatorSize = 20;
constexpr uint16_t kDosDate1980 = 0x21;  // 1980-01-01: no timestamps, so archives are reproducible
// Deflate cannot expand data more than about 1032-fold; a directory claiming more is corrupt, and
// checking it keeps a hostile archive from asking for absurd memory.
constexpr uint64_t kMaxDeflateRatio = 1032;

void put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}
void put32(std::string& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v & 0xffff));
  put16(out, static_cast<uint16_t>(v >> 16));
}

uint64_t get_le(std::string_view bytes, uint64_t offset, int width) {
  uint64_t v = 0;
  for (int i = width - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(bytes[offset + static_cast<uint64_t>(i)]);
  return v;
}

// Little-endian fields of one record, every read checked against the record's bounds.
class RecordReader {
 public:
  RecordReader(std::string_view bytes, uint64_t begin, uint64_t size, const std::string& source, const char* what)
      : bytes_(bytes), begin_(begin), size_(size), source_(source), what_(what) {
    GANTRY_CHECK(begin <= bytes.size() && size <= bytes.size() - begin, "zip: '", source, "': the ", what,
                 " at byte offset ", begin, " runs past the end of the archive (", bytes.size(),
                 " bytes): the file is truncated or corrupt");
  }
  uint64_t u16(uint64_t at) const { return get(at, 2); }
  uint64_t u32(uint64_t at) const { return get(at, 4); }
  uint64_t u64(uint64_t at) const { return get(at, 8); }
  std::string_view slice(uint64_t at, uint64_t n) const {
    check(at, n);
    return bytes_.substr(begin_ + at, n);
  }

 private:
  uint64_t get(uint64_t at, int width) const {
    check(at, static_cast<uint64_t>(width));
    return get_le(bytes_, begin_ + at, width);
  }
  void check(uint64_t at, uint64_t n) const {
    GANTRY_CHECK(at <= size_ && n <= size_ - at, "zip: '", source_, "': the ", what_, " at byte offset ", begin_,
                 " is corrupt: a field at +", at, " runs past its end");
  }
  std::string_view bytes_;
  uint64_t begin_, size_;
  const std::string& source_;
  const char* what_;
};

uint64_t find_end_of_directory(std::string_view bytes, const std::string& source) {
  GANTRY_CHECK(bytes.size() >= kEndOfDirectorySize, "zip: '", source, "' has ", bytes.size(),
               " bytes, too few for a zip archive: the file is truncated or not a zip");
  // The record ends the file, followed only by a comment of at most 65535 bytes.
  const uint64_t last = bytes.size() - kEndOfDirectorySize;
  const uint64_t first = last > 0xffff ? last - 0xffff : 0;
  for (uint64_t at = last + 1; at-- > first;)
    if (get_le(bytes, at, 4) == kEndOfDirectory) return at;
  GANTRY_FAIL("zip: '", source,
              "': no end-of-central-directory record in the last 64 KiB: the file is truncated or not a zip");
}

// Replaces the 32-bit fields a ZIP64 extra field overrides (those set to all ones).
void apply_zip64_extra(std::string_view extra, ZipMember& m, uint64_t& local_offset, bool size_ff, bool csize_ff,
                       bool offset_ff, const std::string& source) {
  uint64_t at = 0;
  while (at + 4 <= extra.size()) {
    const uint64_t id = get_le(extra, at, 2), len = get_le(extra, at + 2, 2);
    GANTRY_CHECK(at + 4 + len <= extra.size(), "zip: '", source, "': member '", m.name,
                 "' has a corrupt extra field (length ", len, " runs past its end)");
    if (id == kZip64ExtraId) {
      const std::string_view field = extra.substr(at + 4, len);
      uint64_t pos = 0;
      const auto next = [&](const char* what) {
        GANTRY_CHECK(pos + 8 <= field.size(), "zip: '", source, "': member '", m.name,
                     "': its ZIP64 extra field lacks the ", what);
        const uint64_t v = get_le(field, pos, 8);
        pos += 8;
        return v;
      };
      if (size_ff) m.size = next("uncompressed size");
      if (csize_ff) m.compressed_size = next("compressed size");
      if (offset_ff) local_offset = next("local header offset");
      return;
    }
    at += 4 + len;
  }
  GANTRY_CHECK(!size_ff && !csize_ff && !offset_ff, "zip: '", source, "': member '", m.name,
               "' has 32-bit sizes or offset set to 0xffffffff but no ZIP64 extra field");
}

}  // namespace

void ZipWriter::add_stored(const std::string& name, std::string_view data) {
  GANTRY_CHECK(
      data.size() < 0xffffffffu && archive_.size() + data.size() + name.size() + kLocalHeaderSize < 0xffffffffu,
      "zip: '", source_, "': member '", name, "' exceeds the 4 GiB a zip without ZIP64 holds");
  GANTRY_CHECK(entries_ < 0xffff, "zip: '", source_, "': more than 65534 members need ZIP64");
  GANTRY_CHECK(name.size() < 0xffff, "zip: '", source_, "': member name of ", name.size(), " bytes is too long");
  const uint32_t crc = crc32_of(data.data(), data.size());
  const uint32_t offset = static_cast<uint32_t>(archive_.size());
  const auto size = static_cast<uint32_t>(data.size());
  const auto name_size = static_cast<uint16_t>(name.size());
  // Local file header: stored (method 0), no data descriptor, no timestamps.
  put32(archive_, kLocalHeader);
  put16(archive_, 20);  // version needed: 2.0
  put16(archive_, 0);   // flags
  put16(archive_, 0);   // method
  put16(archive_, 0);   // time
  put16(archive_, kDosDate1980);
  put32(archive_, crc);
  put32(archive_, size);
  put32(archive_, size);
  put16(archive_, name_size);
  put16(archive_, 0);  // extra length
  archive_ += name;
  archive_ += data;
  // Its central directory entry.
  put32(directory_, kCentralHeader);
  put16(directory_, 20);  // made by
  put16(directory_, 20);  // needed
  put16(directory_, 0);
  put16(directory_, 0);
  put16(directory_, 0);
  put16(directory_, kDosDate1980);
  put32(directory_, crc);
  put32(directory_, size);
  put32(directory_, size);
  put16(directory_, name_size);
  put16(directory_, 0);  // extra
  put16(directory_, 0);  // comment
  put16(directory_, 0);  // disk
  put16(directory_, 0);  // internal attributes
  put32(directory_, 0);  // external attributes
  put32(directory_, offset);
  directory_ += name;
  ++entries_;
}

std::string ZipWriter::finish() {
  GANTRY_CHECK(archive_.size() + directory_.size() < 0xffffffffu, "zip: '", source_,
               "' exceeds the 4 GiB a zip without ZIP64 holds");
  std::string out = std::move(archive_);
  const auto directory_offset = static_cast<uint32_t>(out.size());
  out += directory_;
  put32(out, kEndOfDirectory);
  put16(out, 0);  // this disk
  put16(out, 0);  // directory disk
  put16(out, entries_);
  put16(out, entries_);
  put32(out, static_cast<uint32_t>(directory_.size()));
  put32(out, directory_offset);
  put16(out, 0);  // comment length
  archive_.clear();
  directory_.clear();
  entries_ = 0;
  return out;
}

bool looks_like_zip(std::string_view bytes) { return bytes.size() >= 4 && get_le(bytes, 0, 4) == kLocalHeader; }

ZipReader::ZipReader(std::string_view bytes, std::string source) : bytes_(bytes), source_(std::move(source)) {
  const std::string& src = source_;
  const uint64_t eocd = find_end_of_directory(bytes, src);
  const RecordReader end(bytes, eocd, kEndOfDirectorySize, src, "end-of-central-directory record");
  uint64_t disk = end.u16(4), directory_disk = end.u16(6), entries = end.u16(10);
  uint64_t directory_size = end.u32(12), directory_offset = end.u32(16);
  if (entries == 0xffff || directory_size == 0xffffffffu || directory_offset == 0xffffffffu) {
    // ZIP64: the locator just before the record points at the 64-bit end record.
    GANTRY_CHECK(eocd >= kZip64LocatorSize, "zip: '", src, "': ZIP64 archive without a ZIP64 locator");
    const RecordReader locator(bytes, eocd - kZip64LocatorSize, kZip64LocatorSize, src, "ZIP64 locator");
    GANTRY_CHECK(locator.u32(0) == kZip64Locator, "zip: '", src, "': the ZIP64 locator at byte offset ",
                 eocd - kZip64LocatorSize, " has a wrong signature");
    const uint64_t at = locator.u64(8);
    const RecordReader end64(bytes, at, kZip64EndOfDirectorySize, src, "ZIP64 end-of-central-directory record");
    GANTRY_CHECK(end64.u32(0) == kZip64EndOfDirectory, "zip: '", src,
                 "': the ZIP64 end-of-central-directory record at byte offset ", at, " has a wrong signature");
    disk = end64.u32(16);
    directory_disk = end64.u32(20);
    entries = end64.u64(32);
    directory_size = end64.u64(40);
    directory_offset = end64.u64(48);
  }
  GANTRY_CHECK(disk == 0 && directory_disk == 0, "zip: '", src, "': multi-disk archives are not supported");
  const RecordReader directory(bytes, directory_offset, directory_size, src, "central directory");
  // Each entry takes at least 46 bytes, which bounds the count a corrupt record may claim.
  GANTRY_CHECK(entries <= directory_size / kCentralHeaderSize, "zip: '", src, "': the directory claims ", entries,
               " members but its ", directory_size, " bytes hold at most ", directory_size / kCentralHeaderSize);
  std::set<std::string, std::less<>> names;
  uint64_t at = 0;
  for (uint64_t i = 0; i < entries; ++i) {
    GANTRY_CHECK(directory.u32(at) == kCentralHeader, "zip: '", src, "': central directory entry ", i,
                 " at byte offset ", directory_offset + at, " has a wrong signature (corrupt directory)");
    ZipMember m;
    const uint64_t flags = directory.u16(at + 8);
    m.method = static_cast<uint16_t>(directory.u16(at + 10));
    m.crc32 = static_cast<uint32_t>(directory.u32(at + 16));
    m.compressed_size = directory.u32(at + 20);
    m.size = directory.u32(at + 24);
    const uint64_t name_len = directory.u16(at + 28), extra_len = directory.u16(at + 30),
                   comment_len = directory.u16(at + 32), start_disk = directory.u16(at + 34);
    uint64_t local_offset = directory.u32(at + 42);
    m.name = std::string(directory.slice(at + kCentralHeaderSize, name_len));
    apply_zip64_extra(directory.slice(at + kCentralHeaderSize + name_len, extra_len), m, local_offset,
                      m.size == 0xffffffffu, m.compressed_size == 0xffffffffu, local_offset == 0xffffffffu, src);
    at += kCentralHeaderSize + name_len + extra_len + comment_len;
    GANTRY_CHECK((flags & 1) == 0, "zip: '", src, "': member '", m.name, "' is encrypted");
    GANTRY_CHECK(start_disk == 0 || start_disk == 0xffff, "zip: '", src, "': member '", m.name,
                 "' lies on another disk");
    GANTRY_CHECK(m.method == 0 || m.method == 8, "zip: '", src, "': member '", m.name, "' uses compression method ",
                 m.method, " (stored 0 and deflate 8 are supported)");
    GANTRY_CHECK(m.method != 0 || m.size == m.compressed_size, "zip: '", src, "': stored member '", m.name,
                 "' has compressed size ", m.compressed_size, " but size ", m.size);
    GANTRY_CHECK(m.method != 8 || m.size <= m.compressed_size * kMaxDeflateRatio + 64, "zip: '", src, "': member '",
                 m.name, "' claims ", m.size, " bytes from ", m.compressed_size,
                 " deflated bytes, more than deflate can expand to (corrupt directory)");
    GANTRY_CHECK(names.insert(m.name).second, "zip: '", src, "': member '", m.name, "' appears twice");
    // The data follows the local header, whose name and extra field may differ from the directory's.
    const RecordReader local(bytes, local_offset, kLocalHeaderSize, src, "local file header");
    GANTRY_CHECK(local.u32(0) == kLocalHeader, "zip: '", src, "': member '", m.name,
                 "': the local header at byte offset ", local_offset, " has a wrong signature (corrupt directory)");
    m.data_offset = local_offset + kLocalHeaderSize + local.u16(26) + local.u16(28);
    GANTRY_CHECK(m.data_offset <= bytes.size() && m.compressed_size <= bytes.size() - m.data_offset, "zip: '", src,
                 "': member '", m.name, "' (", m.compressed_size, " bytes at byte offset ", m.data_offset,
                 ") runs past the end of the archive (", bytes.size(), " bytes): the file is truncated or corrupt");
    members_.push_back(std::move(m));
  }
}

const ZipMember* ZipReader::find(std::string_view name) const {
  for (const ZipMember& m : members_)
    if (m.name == name) return &m;
  return nullptr;
}

std::string ZipReader::read(const ZipMember& m) const {
  const std::string_view packed = bytes_.substr(m.data_offset, m.compressed_size);
  std::string out;
  if (m.method == 0) {
    out.assign(packed);
  } else {
    out.resize(m.size);
    z_stream z{};
    GANTRY_CHECK(inflateInit2(&z, -MAX_WBITS) == Z_OK, "zip: '", source_, "': zlib inflateInit2 failed");
    uint64_t in_done = 0, out_done = 0;
    int rc = Z_OK;
    constexpr uint64_t kChunk = std::numeric_limits<uInt>::max();
    while (rc == Z_OK) {
      if (z.avail_in == 0 && in_done < packed.size()) {
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data() + in_done));
        z.avail_in = static_cast<uInt>(std::min<uint64_t>(kChunk, packed.size() - in_done));
        in_done += z.avail_in;
      }
      if (z.avail_out == 0 && out_done < out.size()) {
        z.next_out = reinterpret_cast<Bytef*>(out.data() + out_done);
        z.avail_out = static_cast<uInt>(std::min<uint64_t>(kChunk, out.size() - out_done));
        out_done += z.avail_out;
      }
      const bool starved = z.avail_in == 0 && in_done == packed.size();
      const bool full = z.avail_out == 0 && out_done == out.size();
      rc = inflate(&z, starved ? Z_FINISH : Z_NO_FLUSH);
      if (rc == Z_BUF_ERROR && (starved || full)) break;
    }
    const uint64_t produced = out_done - z.avail_out;
    inflateEnd(&z);
    GANTRY_CHECK(rc == Z_STREAM_END && produced == m.size, "zip: '", source_, "': member '", m.name,
                 "' does not inflate to its ", m.size, " bytes (zlib status ", rc, " after ", produced,
                 " bytes): the member is corrupt");
  }
  const uint32_t crc = crc32_of(out.data(), out.size());
  GANTRY_CHECK(crc == m.crc32, "zip: '", source_, "': member '", m.name, "' fails its CRC-32 check (directory ",
               std::hex, m.crc32, ", data ", crc, "): the member is corrupt");
  return out;
}

}  // namespace gantry::io
