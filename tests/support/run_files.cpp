#include "tests/support/run_files.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"

namespace gantry::testing {

namespace fs = std::filesystem;

TempFolder::TempFolder(const std::string& name)
    : path_((fs::temp_directory_path() / ("gantry_test_" + name + "_" + std::to_string(::getpid()))).string()) {
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempFolder::~TempFolder() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempFolder::sub(const std::string& name) const { return (fs::path(path_) / name).string(); }

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
