#pragma once
// A finished or interrupted `gantry mog train` run read back from its folder: the configuration
// (config.json) and the models and optimiser states of its checkpoint. The analysis commands
// (`mog directions`, `mog eval`) start from it.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "engine/nn/sequential.h"
#include "engine/optim/adam.h"
#include "train/mog/mog_config.h"

namespace gantry::mog {

struct LoadedMogRun {
  MogTrainConfig config;        // from config.json beside the checkpoint, or defaults when there is none
  std::string checkpoint_path;  // the checkpoint file read
  int64_t step = 0;             // the step the checkpoint was written at
  std::shared_ptr<nn::Sequential> generator, critic;
  std::unique_ptr<optim::Adam> generator_optimizer, critic_optimizer;
};

// `path` is a run folder or a checkpoint file. `modes` is used when no config.json is found; when the
// config exists and `modes` is given, they must agree. Throws gantry::Error naming `what` (the option
// the path came from, e.g. "--run") when the path, checkpoint or config is missing, corrupt or does not
// match the models.
LoadedMogRun load_mog_run(const std::string& path, const std::string& what, std::optional<int64_t> modes = {});

}  // namespace gantry::mog
