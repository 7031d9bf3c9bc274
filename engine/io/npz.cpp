#include "engine/io/npz.h"

#include <bit>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/zip_archive.h"

namespace gantry::io {

namespace {

static_assert(std::endian::native == std::endian::little, ".npy I/O assumes a little-endian host");

constexpr std::string_view kNpyMagic("\x93NUMPY", 6);
constexpr size_t kMaxNpyHeader = 1u << 20;  // NumPy itself refuses headers over 10 KB unless told

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

std::optional<DType> dtype_of_descr(const std::string& descr) {
  if (descr == "<f4") return DType::f32;
  if (descr == "<f8") return DType::f64;
  if (descr == "<i8") return DType::i64;
  if (descr == "|u1" || descr == "<u1" || descr == ">u1") return DType::u8;
  return std::nullopt;
}

void put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}

// The header of a .npy file: a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  Shape shape;
};

class NpyHeaderParser {
 public:
  NpyHeaderParser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  NpyHeader parse() {
    NpyHeader h;
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (!peek('}')) {
      const std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        skip_space();
        if (at_ < text_.size() && text_[at_] == '[') fail("structured dtypes (a descr list) are not supported");
        h.descr = string_literal();
        have_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = boolean();
        have_order = true;
      } else if (key == "shape") {
        h.shape = int_tuple();
        have_shape = true;
      } else {
        fail("unknown key '" + key + "'");
      }
      if (!peek('}')) expect(',');
    }
    expect('}');
    skip_space();
    if (at_ != text_.size()) fail("unexpected text after the closing brace");
    if (!have_descr || !have_order || !have_shape) fail("it lacks one of 'descr', 'fortran_order' and 'shape'");
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    GANTRY_FAIL("npy: '", source_, "': bad header at character ", at_, ": ", what,
                " (header: ", std::string(text_.substr(0, 200)), ")");
  }
  void skip_space() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
  }
  bool peek(char c) {
    skip_space();
    return at_ < text_.size() && text_[at_] == c;
  }
  void expect(char c) {
    if (!peek(c)) fail(std::string("expected '") + c + "'");
    ++at_;
  }
  std::string string_literal() {
    skip_space();
    if (at_ >= text_.size() || (text_[at_] != '\'' && text_[at_] != '"')) fail("expected a quoted string");
    const char quote = text_[at_++];
    const size_t end = text_.find(quote, at_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string s(text_.substr(at_, end - at_));
    at_ = end + 1;
    return s;
  }
  bool boolean() {
    skip_space();
    for (const auto& [word, value] : {std::pair{std::string_view("True"), true}, {std::string_view("False"), false}})
      if (text_.substr(at_, word.size()) == word) {
        at_ += word.size();
        return value;
      }
    fail("expected True or False");
  }
  Shape int_tuple() {
    Shape shape;
    expect('(');
    while (!peek(')')) {
      skip_space();
      uint64_t v = 0;
      const size_t start = at_;
      while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_]))) {
        const uint64_t digit = static_cast<uint64_t>(text_[at_++] - '0');
        if (v > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - digit) / 10) fail("dimension too large");
        v = v * 10 + digit;
      }
      if (at_ == start) fail("expected a non-negative integer dimension");
      if (at_ < text_.size() && text_[at_] == 'L') ++at_;  // Python 2 long
      shape.push_back(static_cast<int64_t>(v));
      if (shape.size() > 64) fail("more than 64 dimensions");
      if (!peek(')')) expect(',');
    }
    expect(')');
    return shape;
  }

  std::string_view text_;
  const std::string& source_;
  size_t at_ = 0;
};

std::string member_display(const std::string& archive, const std::string& member) {
  return archive + "' member '" + member;
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
  ZipWriter zip("npz: '" + path + "'");
  for (const auto& [name, tensor] : arrays) zip.add_stored(name + ".npy", npy_bytes(tensor));
  write_file_atomic(path, zip.finish());
}

Tensor parse_npy(std::string_view bytes, const std::string& source) {
  GANTRY_CHECK(bytes.size() >= 10 && bytes.substr(0, 6) == kNpyMagic, "npy: '", source,
               "' does not start with the .npy magic \"\\x93NUMPY\" (", bytes.size(), " bytes)");
  const int major = static_cast<uint8_t>(bytes[6]);
  GANTRY_CHECK(major >= 1 && major <= 3, "npy: '", source, "': format version ", major, ".",
               static_cast<int>(static_cast<uint8_t>(bytes[7])), " is not supported (1.0, 2.0 and 3.0 are)");
  const size_t length_bytes = major == 1 ? 2 : 4;
  GANTRY_CHECK(bytes.size() >= 8 + length_bytes, "npy: '", source, "' is truncated inside its header length");
  uint64_t header_len = 0;
  for (size_t i = length_bytes; i-- > 0;) header_len = (header_len << 8) | static_cast<uint8_t>(bytes[8 + i]);
  const size_t header_start = 8 + length_bytes;
  GANTRY_CHECK(header_len <= kMaxNpyHeader, "npy: '", source, "': header length ", header_len, " exceeds the limit of ",
               kMaxNpyHeader, " bytes");
  GANTRY_CHECK(header_len <= bytes.size() - header_start, "npy: '", source, "' is truncated: header length ",
               header_len, " but only ", bytes.size() - header_start, " bytes follow");
  const NpyHeader h = NpyHeaderParser(bytes.substr(header_start, header_len), source).parse();
  const std::optional<DType> dtype = dtype_of_descr(h.descr);
  GANTRY_CHECK(
      dtype.has_value(), "npy: '", source, "': dtype '", h.descr, "' is not supported (<f4, <f8, <i8 and |u1 are",
      h.descr.find('O') != std::string::npos ? "; object arrays hold pickled Python objects and are never read" : "",
      ")");
  // The non-zero dimensions' product must fit int64 even when a zero dimension empties the array.
  uint64_t nonzero_bytes = itemsize(*dtype);
  bool has_zero = false;
  for (const int64_t d : h.shape) {
    if (d == 0) {
      has_zero = true;
      continue;
    }
    GANTRY_CHECK(nonzero_bytes <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / static_cast<uint64_t>(d),
                 "npy: '", source, "': shape ", shape_str(h.shape), " is too large");
    nonzero_bytes *= static_cast<uint64_t>(d);
  }
  const uint64_t data_bytes = has_zero ? 0 : nonzero_bytes;
  const uint64_t available = bytes.size() - header_start - header_len;
  GANTRY_CHECK(available >= data_bytes, "npy: '", source, "' is truncated: shape ", shape_str(h.shape), " of ",
               dtype_name(*dtype), " needs ", data_bytes, " data bytes but ", available, " follow the header");
  GANTRY_CHECK(available == data_bytes, "npy: '", source, "': ", available - data_bytes,
               " unexpected bytes after the data of shape ", shape_str(h.shape), " (", data_bytes, " bytes)");
  // Fortran order is C order of the reversed shape; permuting it back gives the array.
  Shape stored_shape = h.shape;
  if (h.fortran_order) stored_shape.assign(h.shape.rbegin(), h.shape.rend());
  Tensor t = empty(stored_shape, *dtype);
  if (data_bytes > 0) std::memcpy(t.raw_data(), bytes.data() + header_start + header_len, data_bytes);
  if (h.fortran_order && h.shape.size() > 1) {
    Shape reverse;
    for (int64_t d = static_cast<int64_t>(h.shape.size()); d-- > 0;) reverse.push_back(d);
    t = t.permute(reverse).contiguous();
  }
  return t;
}

Tensor load_npy(const std::string& path) { return parse_npy(read_file(path), path); }

std::vector<std::pair<std::string, Tensor>> parse_npz(std::string_view bytes, const std::string& source) {
  GANTRY_CHECK(looks_like_zip(bytes), "npz: '", source, "' is not a zip archive (no \"PK\\3\\4\" at its start)");
  const ZipReader zip(bytes, source);
  std::vector<std::pair<std::string, Tensor>> arrays;
  for (const ZipMember& m : zip.members()) {
    GANTRY_CHECK(m.name.size() > 4 && m.name.ends_with(".npy"), "npz: '", source, "': member '", m.name,
                 "' is not a .npy array");
    arrays.emplace_back(m.name.substr(0, m.name.size() - 4), parse_npy(zip.read(m), member_display(source, m.name)));
  }
  return arrays;
}

std::vector<std::pair<std::string, Tensor>> load_npz(const std::string& path) {
  return parse_npz(read_file(path), path);
}

}  // namespace gantry::io
