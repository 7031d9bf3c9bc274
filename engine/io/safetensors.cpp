#include "engine/io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/io/atomic_file.h"
#include "engine/ops/ops.h"

namespace gantry::io {
namespace {

static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

constexpr uint64_t kMaxHeaderBytes = 100u << 20;  // the format's own limit on the JSON header

const char* safetensors_dtype(DType t) {
  switch (t) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::i64: return "I64";
    case DType::u8: return "U8";
  }
  return "?";
}

DType parse_dtype(const std::string& s, const std::string& name, const std::string& source) {
  if (s == "F32") return DType::f32;
  if (s == "F64") return DType::f64;
  if (s == "I64") return DType::i64;
  if (s == "U8") return DType::u8;
  GANTRY_FAIL("load_safetensors: '", source, "': tensor '", name, "' has unsupported dtype '", s,
              "' (supported: F32, F64, I64, U8)");
}

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

uint64_t read_u64_le(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

Entry parse_entry(const std::string& name, const nlohmann::json& spec, const std::string& source) {
  const auto fail = [&](const std::string& what) {
    GANTRY_FAIL("load_safetensors: '", source, "': tensor '", name, "': ", what);
  };
  if (!spec.is_object()) fail("header entry is not an object");
  if (!spec.contains("dtype") || !spec["dtype"].is_string()) fail("missing string field 'dtype'");
  if (!spec.contains("shape") || !spec["shape"].is_array()) fail("missing array field 'shape'");
  if (!spec.contains("data_offsets") || !spec["data_offsets"].is_array() || spec["data_offsets"].size() != 2)
    fail("'data_offsets' must be an array [begin, end]");
  Entry e;
  e.name = name;
  e.dtype = parse_dtype(spec["dtype"].get<std::string>(), name, source);
  // The non-zero dimensions' product bounds every stride, so it must fit int64 even when a zero
  // dimension makes the tensor empty.
  uint64_t nonzero_bytes = itemsize(e.dtype);
  bool has_zero_dim = false;
  for (const auto& d : spec["shape"]) {
    if (!d.is_number_unsigned()) fail("shape entries must be non-negative integers");
    const uint64_t v = d.get<uint64_t>();
    if (v == 0) {
      has_zero_dim = true;
    } else {
      if (nonzero_bytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / v) fail("shape is too large");
      nonzero_bytes *= v;
    }
    e.shape.push_back(static_cast<int64_t>(v));
  }
  const uint64_t bytes = has_zero_dim ? 0 : nonzero_bytes;
  for (const auto& o : spec["data_offsets"])
    if (!o.is_number_unsigned()) fail("data_offsets must be non-negative integers");
  e.begin = spec["data_offsets"][0].get<uint64_t>();
  e.end = spec["data_offsets"][1].get<uint64_t>();
  if (e.end < e.begin) fail("data_offsets end < begin");
  if (e.end - e.begin != bytes)
    fail("byte length " + std::to_string(e.end - e.begin) + " does not match shape " + shape_str(e.shape) +
         " of " + dtype_name(e.dtype) + " (" + std::to_string(bytes) + " bytes)");
  return e;
}

}  // namespace

bool TensorFile::contains(const std::string& name) const {
  return std::any_of(tensors.begin(), tensors.end(), [&](const auto& p) { return p.first == name; });
}

const Tensor& TensorFile::at(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return t;
  GANTRY_FAIL("safetensors: no tensor named '", name, "' in the file (", tensors.size(), " tensors)");
}

std::string serialize_safetensors(const NamedTensors& tensors, const Metadata& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  std::vector<Tensor> host;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    GANTRY_CHECK(t.defined(), "save_safetensors: tensor '", name, "' is undefined");
    GANTRY_CHECK(name != "__metadata__" && names.insert(name).second, "save_safetensors: duplicate or reserved name '",
                 name, "'");
    host.push_back(t.detach().to(kCPU).contiguous());
    const uint64_t n = host.back().nbytes();
    header[name] = {{"dtype", safetensors_dtype(t.dtype())},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + n}}};
    offset += n;
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');  // keep the data 8-byte aligned
  std::string out(8, '\0');
  const uint64_t len = json.size();
  std::memcpy(out.data(), &len, 8);
  out += json;
  out.reserve(out.size() + offset);
  for (const Tensor& t : host) out.append(static_cast<const char*>(t.raw_data()), t.nbytes());
  return out;
}

TensorFile parse_safetensors(const std::string& bytes, const std::string& source) {
  GANTRY_CHECK(bytes.size() >= 8, "load_safetensors: '", source, "' is truncated: ", bytes.size(),
               " bytes, fewer than the 8-byte header length");
  const uint64_t header_len = read_u64_le(bytes.data());
  GANTRY_CHECK(header_len <= kMaxHeaderBytes, "load_safetensors: '", source, "': header length ", header_len,
               " exceeds the limit of ", kMaxHeaderBytes, " bytes");
  GANTRY_CHECK(header_len <= bytes.size() - 8, "load_safetensors: '", source, "' is truncated: header length ",
               header_len, " but only ", bytes.size() - 8, " bytes follow");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<int64_t>(header_len));
  } catch (const nlohmann::json::exception& e) {
    GANTRY_FAIL("load_safetensors: '", source, "': header is not valid JSON: ", e.what());
  }
  GANTRY_CHECK(header.is_object(), "load_safetensors: '", source, "': header is not a JSON object");

  TensorFile file;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      GANTRY_CHECK(value.is_object(), "load_safetensors: '", source, "': __metadata__ is not an object");
      for (const auto& [mk, mv] : value.items()) {
        GANTRY_CHECK(mv.is_string(), "load_safetensors: '", source, "': metadata value of '", mk,
                     "' is not a string");
        file.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(key, value, source));
  }
  // The data must be exactly the tensors' byte ranges laid end to end.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  const uint64_t data_len = bytes.size() - 8 - header_len;
  uint64_t expected_begin = 0;
  for (const Entry& e : entries) {
    GANTRY_CHECK(e.begin == expected_begin, "load_safetensors: '", source, "': tensor '", e.name,
                 "' data_offsets [", e.begin, ", ", e.end, "] ", e.begin < expected_begin ? "overlap" : "leave a gap after",
                 " the previous tensor (expected begin ", expected_begin, ")");
    GANTRY_CHECK(e.end <= data_len, "load_safetensors: '", source, "' is truncated: tensor '", e.name,
                 "' ends at byte ", e.end, " of a ", data_len, "-byte data section");
    expected_begin = e.end;
  }
  GANTRY_CHECK(expected_begin == data_len, "load_safetensors: '", source, "': data section has ", data_len,
               " bytes but the tensors cover ", expected_begin);
  const char* data = bytes.data() + 8 + header_len;
  for (const Entry& e : entries) {
    Tensor t = empty(e.shape, e.dtype, kCPU);
    if (e.end > e.begin) std::memcpy(t.raw_data(), data + e.begin, e.end - e.begin);
    file.tensors.emplace_back(e.name, std::move(t));
  }
  return file;
}

void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata) {
  write_file_atomic(path, serialize_safetensors(tensors, metadata));
}

TensorFile load_safetensors(const std::string& path) { return parse_safetensors(read_file(path), path); }

}  // namespace gantry::io
