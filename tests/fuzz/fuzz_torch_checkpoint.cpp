// The PyTorch checkpoint reader (engine/io/torch_checkpoint.cpp, with the restricted pickle reader
// and the zip reader under it) on arbitrary bytes: format detection, the legacy header pickles and
// storage walk, the zip directory, the state dict's tensors and their views. A file whose header
// parses and whose storages all lie inside it must load (a zip member may still fail its CRC), into
// contiguous tensors of the shapes and dtypes the header gave.
#include "engine/io/torch_checkpoint.h"
#include "tests/fuzz/harness_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes = gantry::fuzz::as_string(data, size);
  const auto info = gantry::fuzz::accepted([&] { return gantry::io::parse_torch_checkpoint_info(bytes, "fuzz.pth"); });
  if (!info) return 0;
  bool complete = true;
  for (const auto& s : info->storages) complete = complete && s.in_file;
  const auto loaded = gantry::fuzz::accepted([&] { return gantry::io::parse_torch_checkpoint(bytes, "fuzz.pth"); });
  if (!loaded) {
    gantry::fuzz::require(!complete || info->format == gantry::io::TorchCheckpointFormat::zip,
                          "a complete legacy checkpoint whose header parses also loads");
    return 0;
  }
  gantry::fuzz::require(complete, "only a complete checkpoint loads");
  gantry::fuzz::require(loaded->size() == info->tensors.size(), "one tensor per state-dict entry");
  for (size_t i = 0; i < loaded->size(); ++i) {
    const auto& [name, t] = (*loaded)[i];
    const auto& expected = info->tensors[i];
    gantry::fuzz::require(
        name == expected.name && t.dtype() == expected.dtype && t.shape() == expected.shape && t.is_contiguous(),
        "each loaded tensor has the header's name, dtype and shape, contiguous");
  }
  return 0;
}
