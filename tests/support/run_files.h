#pragma once
// Test helpers that read back the files a training run writes.
#include <nlohmann/json.hpp>
#include <string>

namespace gantry::testing {

nlohmann::json read_json_file(const std::string& path);

// A run checkpoint's resumable state (step, RNG, update policy) from its metadata, leaving out anything
// that names the folder it was written in.
nlohmann::json checkpoint_run_state(const std::string& checkpoint_path);

}  // namespace gantry::testing
