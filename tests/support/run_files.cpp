#include "tests/support/run_files.h"

#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"

namespace gantry::testing {

nlohmann::json read_json_file(const std::string& path) { return nlohmann::json::parse(io::read_file(path)); }

nlohmann::json checkpoint_run_state(const std::string& checkpoint_path) {
  const auto metadata = io::load_safetensors(checkpoint_path).metadata;
  const auto run = nlohmann::json::parse(metadata.at("gantry_run_state"));
  return {{"step", run.at("step")},
          {"rng_seed", run.at("rng_seed")},
          {"rng_offset", run.at("rng_offset")},
          {"policy", run.at("policy")}};
}

}  // namespace gantry::testing
