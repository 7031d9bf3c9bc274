// The NumPy reader (engine/io/npz.cpp and the zip reader under it) on arbitrary bytes, read both as
// a .npz archive and as a single .npy file. Every accepted array must write back (npy_bytes) to a
// .npy that reads to the same dtype, shape and bytes.
#include <cstring>

#include "engine/io/npz.h"
#include "tests/fuzz/harness_support.h"

namespace {

void check_round_trip(const gantry::Tensor& t) {
  const gantry::Tensor again = gantry::io::parse_npy(gantry::io::npy_bytes(t), "round trip");
  gantry::fuzz::require(again.dtype() == t.dtype() && again.shape() == t.shape() && t.is_contiguous() &&
                            (t.nbytes() == 0 || std::memcmp(again.raw_data(), t.raw_data(), t.nbytes()) == 0),
                        "an accepted array writes back to a .npy that reads the same");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes = gantry::fuzz::as_string(data, size);
  if (const auto arrays = gantry::fuzz::accepted([&] { return gantry::io::parse_npz(bytes, "fuzz.npz"); }))
    for (const auto& [name, t] : *arrays) check_round_trip(t);
  if (const auto array = gantry::fuzz::accepted([&] { return gantry::io::parse_npy(bytes, "fuzz.npy"); }))
    check_round_trip(*array);
  return 0;
}
