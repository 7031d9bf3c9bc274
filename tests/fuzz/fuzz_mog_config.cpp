// A run folder's config.json as `gantry mog train --resume`, `mog grid` and `mog eval` read it:
// parsed as JSON (RunFolder::read_json), turned into a MogTrainConfig (from_json) and validated
// (validate, as before any training). An accepted config must survive its own JSON form.
#include "tests/fuzz/harness_support.h"
#include "train/mog/mog_config.h"
#include "train/run_folder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gantry::mog::MogTrainConfig;
  const std::string text = gantry::fuzz::as_string(data, size);
  const auto config = gantry::fuzz::accepted([&] {
    MogTrainConfig c = MogTrainConfig::from_json(gantry::train::parse_json_text(text, "config.json"));
    c.validate();
    return c;
  });
  if (!config) return 0;
  const MogTrainConfig again = MogTrainConfig::from_json(config->to_json());
  gantry::fuzz::require(again.identity_json() == config->identity_json() && again.to_json() == config->to_json(),
                        "an accepted config reads back from its own JSON unchanged");
  again.validate();
  return 0;
}
