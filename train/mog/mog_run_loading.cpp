#include "train/mog/mog_run_loading.h"

#include <filesystem>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/random/generator.h"
#include "models/mog_mlp.h"
#include "train/checkpoint.h"
#include "train/mog/mog_experiment.h"
#include "train/update_policy.h"

namespace gantry::mog {

namespace {

// The checkpoint file and the config.json beside it (when there is one) for a folder or file path.
std::pair<std::string, std::string> resolve_checkpoint(const std::string& path, const std::string& what) {
  namespace fs = std::filesystem;
  GANTRY_CHECK(fs::exists(path), what, ": '", path, "' does not exist");
  const fs::path file = fs::is_directory(path) ? fs::path(path) / kCheckpointFile : fs::path(path);
  GANTRY_CHECK(fs::is_regular_file(file), what, ": no ", kCheckpointFile, " in '", path, "'");
  return {file.string(), (file.parent_path() / kConfigFile).string()};
}

MogTrainConfig read_config(const std::string& config_path, const std::string& what) {
  try {
    return MogTrainConfig::from_json(nlohmann::json::parse(io::read_file(config_path)));
  } catch (const nlohmann::json::exception& e) {
    GANTRY_FAIL(what, ": '", config_path, "' is not a valid run configuration: ", e.what());
  }
}

}  // namespace

LoadedMogRun load_mog_run(const std::string& path, const std::string& what, std::optional<int64_t> modes) {
  LoadedMogRun run;
  const auto [checkpoint, config_path] = resolve_checkpoint(path, what);
  run.checkpoint_path = checkpoint;
  if (modes) run.config.modes = *modes;
  if (std::filesystem::exists(config_path)) {
    run.config = read_config(config_path, what);
    GANTRY_CHECK(!modes || run.config.modes == *modes, "--modes ", *modes, " but the run in '", path,
                 "' was trained on ", run.config.modes, " modes");
  }
  const models::MogMlpOptions arch;
  Generator rng(run.config.seed);  // initial weights are replaced by the checkpoint's
  run.generator = models::make_mog_generator(arch, rng);
  run.critic = models::make_mog_critic(arch, rng);
  const optim::AdamOptions adam{run.config.lr, run.config.beta1, run.config.beta2};
  run.generator_optimizer = std::make_unique<optim::Adam>(run.generator->parameters(), adam);
  run.critic_optimizer = std::make_unique<optim::Adam>(run.critic->parameters(), adam);
  train::FullBatchPolicy policy;  // the analyses take their own steps; a saved schedule is not needed
  run.step = train::load_checkpoint(checkpoint, {run.generator.get(), run.critic.get(), run.generator_optimizer.get(),
                                                 run.critic_optimizer.get(), &rng, &policy});
  return run;
}

}  // namespace gantry::mog
