#pragma once
// What the run-folder machinery (take_run_folder, read_recorded_run) needs to know of a kind of
// training run — mixture of Gaussians, image GAN, ... — so every kind gets the same refusals,
// resume checks and checkpoint cross-checks from one implementation.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gantry::train {

// A run configuration as recorded in config.json or a checkpoint, parsed and checked by its kind.
struct RecordedConfig {
  nlohmann::json config;    // the full configuration (its to_json())
  nlohmann::json identity;  // the settings that define the run (a resumed run must share them)
  std::string hash;         // the identity's short stable name, as checkpoints store it
  int64_t steps = 0;        // the run's length
};

class RunKind {
 public:
  virtual ~RunKind() = default;
  // The files a run of this kind writes into its folder; any of them means the folder holds a run.
  virtual std::vector<std::string> run_files() const = 0;
  virtual std::string checkpoint_file() const = 0;  // the latest checkpoint, in the run folder
  virtual std::string config_file() const = 0;      // the configuration, beside it
  // Parses a recorded configuration; throws gantry::Error when it is not a valid one of this kind.
  virtual RecordedConfig parse(const nlohmann::json& config) const = 0;
  // The command-line option that sets an identity key (default: "--" + key with '_' as '-').
  virtual std::string option_of(const std::string& key) const;
  // The options a resumed run may change, for messages ("--steps, --eval-every, ...").
  virtual std::string resumable_options() const = 0;
};

// The first identity setting in which two recorded configurations differ: its key, the option that
// sets it, and both values as JSON text ("(off)" where the setting belongs to a feature that is off).
struct IdentityDifference {
  std::string key, option, first, second;
};
std::optional<IdentityDifference> identity_difference(const nlohmann::json& first_identity,
                                                      const nlohmann::json& second_identity, const RunKind& kind);

}  // namespace gantry::train
