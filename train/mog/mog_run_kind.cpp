#include "train/mog/mog_run_kind.h"

#include "train/mog/mog_experiment.h"

namespace gantry::mog {

namespace {

class MogRunKind final : public train::RunKind {
 public:
  std::vector<std::string> run_files() const override {
    return {kConfigFile, kCheckpointFile, kMetricsFile, kLogFile, kSamplesFile, kEvalSamplesFile};
  }
  std::string checkpoint_file() const override { return kCheckpointFile; }
  std::string config_file() const override { return kConfigFile; }
  train::RecordedConfig parse(const nlohmann::json& config) const override {
    return recorded_config(MogTrainConfig::from_json(config));
  }
  std::string option_of(const std::string& key) const override {
    return key == "selection" ? "--topk/--bottomk" : RunKind::option_of(key);
  }
  std::string resumable_options() const override {
    return "--steps, --eval-every, --eval-samples, --log-every, --checkpoint-every, --threads and --device";
  }
};

}  // namespace

const train::RunKind& mog_run_kind() {
  static const MogRunKind kind;
  return kind;
}

train::RecordedConfig recorded_config(const MogTrainConfig& c) {
  return {c.to_json(), c.identity_json(), c.identity_hash(), c.steps};
}

}  // namespace gantry::mog
