#include "engine/io/npz.h"

#include <cstdint>
#include <cstring>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/digest.h"

namespace gantry::io {

namespace {

const char* npy_descr(DType dtype) {
  switch (dtype) {
    case DType::u8: return "|u1";
    case DType::i64: return "<i8";
    case DType::f32: return "<f4";
    case DType::f64: return "<f8";
    default: break;
  }
  GANTRY_FAIL("npz: dtype ", dtype_name(dtype), " cannot be saved (u8, i64, f32 and f64 can)");
}

void put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}
void put32(std::string& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v & 0xffff));
  put16(out, static_cast<uint16_t>(v >> 16));
}

}  // namespace

std::string npy_bytes(const Tensor& tensor) {
  const Tensor t = tensor.detach().to(kCPU).contiguous();
  std::string shape = "(";  // a Python tuple: "()", "(5,)", "(2, 3)"
  for (int64_t d = 0; d < t.dim(); ++d) shape += (d > 0 ? ", " : "") + std::to_string(t.size(d));
  shape += t.dim() == 1 ? ",)" : ")";
  std::string header = std::string("{'descr': '") + npy_descr(t.dtype()) + "', 'fortran_order': False, 'shape': " +
                       shape + ", }";
  // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64 and
  // ended by a newline, as NumPy writes it.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  put16(out, static_cast<uint16_t>(header.size()));
  out += header;
  out.append(static_cast<const char*>(t.raw_data()), t.nbytes());
  return out;
}

void save_npz(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& arrays) {
  std::string zip, directory;
  for (const auto& [name, tensor] : arrays) {
    const std::string member = name + ".npy";
    const std::string data = npy_bytes(tensor);
    GANTRY_CHECK(data.size() < 0xffffffffu && zip.size() < 0xffffffffu, "npz: '", path, "': member '", member,
                 "' exceeds the 4 GiB a zip without ZIP64 holds");
    const uint32_t crc = crc32_of(data.data(), data.size());
    const uint32_t offset = static_cast<uint32_t>(zip.size());
    // Local file header: stored (method 0), no data descriptor, no timestamps.
    put32(zip, 0x04034b50);
    put16(zip, 20);
    put16(zip, 0);
    put16(zip, 0);
    put16(zip, 0);
    put16(zip, 0x21);  // 1980-01-01
    put32(zip, crc);
    put32(zip, static_cast<uint32_t>(data.size()));
    put32(zip, static_cast<uint32_t>(data.size()));
    put16(zip, static_cast<uint16_t>(member.size()));
    put16(zip, 0);
    zip += member;
    zip += data;
    // Its central directory entry.
    put32(directory, 0x02014b50);
    put16(directory, 20);
    put16(directory, 20);
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0x21);
    put32(directory, crc);
    put32(directory, static_cast<uint32_t>(data.size()));
    put32(directory, static_cast<uint32_t>(data.size()));
    put16(directory, static_cast<uint16_t>(member.size()));
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0);
    put32(directory, 0);
    put32(directory, offset);
    directory += member;
  }
  const uint32_t directory_offset = static_cast<uint32_t>(zip.size());
  zip += directory;
  put32(zip, 0x06054b50);
  put16(zip, 0);
  put16(zip, 0);
  put16(zip, static_cast<uint16_t>(arrays.size()));
  put16(zip, static_cast<uint16_t>(arrays.size()));
  put32(zip, static_cast<uint32_t>(directory.size()));
  put32(zip, directory_offset);
  put16(zip, 0);
  write_file_atomic(path, zip);
}

}  // namespace gantry::io
