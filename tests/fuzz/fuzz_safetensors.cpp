// The safetensors reader (engine/io/safetensors.cpp) on arbitrary bytes: header length, JSON header,
// dtypes, shapes and data offsets. Every accepted file must serialise back to bytes that parse to
// the same tensors and metadata.
#include <cstring>

#include "engine/io/safetensors.h"
#include "tests/fuzz/harness_support.h"

namespace {

bool same_tensors(const gantry::io::TensorFile& a, const gantry::io::TensorFile& b) {
  if (a.metadata != b.metadata || a.tensors.size() != b.tensors.size()) return false;
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const auto& [name_a, ta] = a.tensors[i];
    const auto& [name_b, tb] = b.tensors[i];
    if (name_a != name_b || ta.dtype() != tb.dtype() || ta.shape() != tb.shape() || ta.nbytes() != tb.nbytes())
      return false;
    if (ta.nbytes() > 0 && std::memcmp(ta.raw_data(), tb.raw_data(), ta.nbytes()) != 0) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes = gantry::fuzz::as_string(data, size);
  const auto file = gantry::fuzz::accepted([&] { return gantry::io::parse_safetensors(bytes, "fuzz.safetensors"); });
  if (!file) return 0;
  const std::string again = gantry::io::serialize_safetensors(file->tensors, file->metadata);
  gantry::fuzz::require(same_tensors(*file, gantry::io::parse_safetensors(again, "round trip")),
                        "a parsed file serialises to bytes that parse to the same tensors");
  return 0;
}
