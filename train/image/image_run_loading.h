#pragma once
// A trained (or interrupted) image run read back from its folder for sampling and evaluation: the
// configuration cross-checked with the checkpoint (train::read_recorded_run), the networks rebuilt
// from the architecture the checkpoint records and their weights restored.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/optim/optimizer.h"
#include "models/image_gan_models.h"
#include "train/checkpoint.h"
#include "train/image/image_config.h"

namespace gantry::image {

// The networks' architecture with every default filled in, as a checkpoint part ("architecture"):
// restoring refuses a checkpoint of another architecture, naming both.
nlohmann::json architecture_json(const models::ImageGanConfig& config);
models::ImageGanConfig architecture_from_json(const nlohmann::json& j, const std::string& path);

class ArchitecturePart final : public train::CheckpointPart {
 public:
  explicit ArchitecturePart(const models::ImageGanConfig& config) : config_(config) {}
  std::string name() const override { return "architecture"; }
  nlohmann::json state() const override { return architecture_json(config_); }
  void load(const std::vector<std::pair<std::string, Tensor>>&, const nlohmann::json& state) override;

 private:
  models::ImageGanConfig config_;
};

// The optimiser a run's configuration names (Adam or RMSprop) over `params` at learning rate `lr`.
std::unique_ptr<optim::Optimizer> make_run_optimizer(const ImageTrainConfig& config, std::vector<Tensor> params,
                                                     double lr);

struct LoadedImageRun {
  ImageTrainConfig config;
  std::string checkpoint_path;
  int64_t step = 0;
  std::vector<std::string> notes;
  models::ImageGanModels nets;
  bool ema = false;  // the run kept an EMA generator
};

// `path` is a run folder or a checkpoint file; `what` names the option in errors. With `use_ema`, the
// generator holds the EMA weights (an error when the run kept none).
LoadedImageRun load_image_run(const std::string& path, const std::string& what, bool use_ema = false);
// Whether the run's checkpoint holds an EMA generator.
bool has_ema(const LoadedImageRun& run);

}  // namespace gantry::image
