#include "train/mog/mog_run_loading.h"

#include "engine/core/error.h"
#include "engine/random/generator.h"
#include "models/mog_mlp.h"
#include "train/mog/mog_experiment.h"
#include "train/mog/mog_run_kind.h"
#include "train/update_policy.h"

namespace gantry::mog {

RecordedRun as_mog_run(train::RecordedRun run) {
  return {MogTrainConfig::from_json(run.config.config), std::move(run.config_source), std::move(run.checkpoint),
          std::move(run.notes)};
}

RecordedRun read_recorded_run(const std::string& path, const std::string& what) {
  return as_mog_run(train::read_recorded_run(path, what, mog_run_kind()));
}

LoadedMogRun load_mog_run(const std::string& path, const std::string& what, std::optional<int64_t> modes) {
  RecordedRun recorded = read_recorded_run(path, what);
  LoadedMogRun run;
  run.config = recorded.config;
  run.checkpoint_path = recorded.checkpoint.path;
  run.notes = recorded.notes;
  GANTRY_CHECK(!modes || run.config.modes == *modes, "--modes ", *modes, " but the run in '", path, "' was trained on ",
               run.config.modes, " modes");
  const models::MogMlpOptions arch = run.config.arch();
  Generator rng(run.config.seed);  // initial weights are replaced by the checkpoint's
  run.generator = models::make_mog_generator(arch, rng);
  run.critic = models::make_mog_critic(arch, rng);
  const optim::AdamOptions adam{run.config.lr, run.config.beta1, run.config.beta2};
  run.generator_optimizer = std::make_unique<optim::Adam>(run.generator->parameters(), adam);
  run.critic_optimizer = std::make_unique<optim::Adam>(run.critic->parameters(), adam);
  train::FullBatchPolicy policy;  // the analyses take their own steps; a saved schedule is not needed
  run.step = train::restore_checkpoint(recorded.checkpoint,
                                       {run.generator.get(), run.critic.get(), run.generator_optimizer.get(),
                                        run.critic_optimizer.get(), &rng, &policy, {}});
  return run;
}

}  // namespace gantry::mog
