// A run folder's metrics.json as `gantry mog grid` reads it back (to keep a finished run and to
// summarise it): RunFolder's JSON parsing, then parse_mog_run_metrics.
#include "tests/fuzz/harness_support.h"
#include "train/mog/mog_run_metrics.h"
#include "train/run_folder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = gantry::fuzz::as_string(data, size);
  gantry::fuzz::accepted([&] {
    return gantry::mog::parse_mog_run_metrics(gantry::train::parse_json_text(text, "metrics.json"), "metrics.json");
  });
  return 0;
}
