#include "train/image/image_run_loading.h"

#include <algorithm>
#include <memory>

#include "engine/core/error.h"
#include "engine/io/json_integer.h"
#include "engine/nn/weight_ema.h"
#include "engine/optim/adam.h"
#include "engine/optim/rmsprop.h"
#include "train/recorded_run.h"
#include "train/update_policy.h"

namespace gantry::image {

nlohmann::json architecture_json(const models::ImageGanConfig& c) {
  return {{"model", c.model},           {"image_size", c.image_size},       {"channels", c.channels},
          {"num_classes", c.num_classes}, {"latent_dim", c.latent_dim},     {"generator_width", c.generator_width},
          {"critic_width", c.critic_width}};
}

models::ImageGanConfig architecture_from_json(const nlohmann::json& j, const std::string& path) {
  models::ImageGanConfig c;
  try {
    c.model = j.at("model").get<std::string>();
    c.image_size = io::config_integer<int64_t>(j, "image_size");
    c.channels = io::config_integer<int64_t>(j, "channels");
    c.num_classes = io::config_integer<int64_t>(j, "num_classes");
    c.latent_dim = io::config_integer<int64_t>(j, "latent_dim");
    c.generator_width = io::config_integer<int64_t>(j, "generator_width");
    c.critic_width = io::config_integer<int64_t>(j, "critic_width");
  } catch (const nlohmann::json::exception& e) {
    GANTRY_FAIL("'", path, "' has a malformed network architecture record: ", e.what());
  } catch (const Error& e) {
    GANTRY_FAIL("'", path, "' has a malformed network architecture record: ", e.what());
  }
  return c;
}

void ArchitecturePart::load(const std::vector<std::pair<std::string, Tensor>>&, const nlohmann::json& state) {
  const nlohmann::json mine = architecture_json(config_);
  GANTRY_CHECK(state == mine, "the checkpoint's networks are ", state.dump(), " but this run builds ", mine.dump(),
               " (a checkpoint of another model or configuration)");
}

std::unique_ptr<optim::Optimizer> make_run_optimizer(const ImageTrainConfig& c, std::vector<Tensor> params,
                                                     double lr) {
  if (c.optimizer == "rmsprop") {
    optim::RMSpropOptions o;
    o.lr = lr;
    return std::make_unique<optim::RMSprop>(std::move(params), o);
  }
  return std::make_unique<optim::Adam>(std::move(params), optim::AdamOptions{lr, c.beta1, c.beta2});
}

bool has_ema(const LoadedImageRun& run) { return run.ema; }

LoadedImageRun load_image_run(const std::string& path, const std::string& what, bool use_ema) {
  train::RecordedRun recorded = train::read_recorded_run(path, what, image_run_kind());
  LoadedImageRun run;
  run.config = ImageTrainConfig::from_json(recorded.config.config);
  run.checkpoint_path = recorded.checkpoint.path;
  run.notes = recorded.notes;
  const models::ImageGanConfig arch = architecture_from_json(
      train::checkpoint_part_state(recorded.checkpoint, "architecture"), recorded.checkpoint.path);
  Generator rng(run.config.seed);  // initial weights are replaced by the checkpoint's
  run.nets = models::make_image_gan_models(arch, rng);
  // Optimiser states are restored too (a checkpoint is read whole) and then dropped.
  auto g_opt = make_run_optimizer(run.config, run.nets.generator->parameters(), run.config.g_lr);
  auto d_opt = make_run_optimizer(run.config, run.nets.critic->parameters(), run.config.d_lr);
  train::FullBatchPolicy policy;
  ArchitecturePart architecture(arch);
  std::vector<std::unique_ptr<train::SkippedCheckpointPart>> skipped;
  train::RunState state{run.nets.generator.get(), run.nets.critic.get(), g_opt.get(), d_opt.get(), &rng, &policy,
                         {&architecture}};
  for (const std::string& name : train::checkpoint_part_names(recorded.checkpoint))
    if (name != architecture.name()) {
      skipped.push_back(std::make_unique<train::SkippedCheckpointPart>(name));
      state.parts.push_back(skipped.back().get());
    }
  run.step = train::restore_checkpoint(recorded.checkpoint, state);
  const std::vector<std::string> parts = train::checkpoint_part_names(recorded.checkpoint);
  run.ema = std::find(parts.begin(), parts.end(), "ema") != parts.end();
  if (use_ema) {
    GANTRY_CHECK(run.ema, what, ": the run in '", path, "' kept no EMA generator (train with --ema-decay)");
    nn::WeightEma ema(*run.nets.generator);
    std::vector<std::pair<std::string, Tensor>> shadow;
    const std::string prefix = "part.ema.";
    for (const auto& [name, t] : recorded.checkpoint.contents.tensors)
      if (name.rfind(prefix, 0) == 0) shadow.emplace_back(name.substr(prefix.size()), t);
    ema.load_state_dict(shadow);
    ema.copy_to(*run.nets.generator);
  }
  return run;
}

}  // namespace gantry::image
