#include "train/mog/mog_run_loading.h"

#include <filesystem>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/random/generator.h"
#include "models/mog_mlp.h"
#include "train/mog/mog_experiment.h"
#include "train/update_policy.h"

namespace gantry::mog {

namespace {

namespace fs = std::filesystem;

// The checkpoint file and the config.json beside it for a folder or file path.
std::pair<std::string, std::string> resolve_checkpoint(const std::string& path, const std::string& what) {
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
  } catch (const Error& e) {
    GANTRY_FAIL(what, ": '", config_path, "' is not a valid run configuration: ", e.what());
  }
}

// The configuration a checkpoint carries, checked against its identity hash.
MogTrainConfig embedded_config(const train::CheckpointFile& checkpoint, const std::string& what) {
  MogTrainConfig c;
  try {
    c = MogTrainConfig::from_json(checkpoint.run->config);
  } catch (const Error& e) {
    GANTRY_FAIL(what, ": '", checkpoint.path, "' has a malformed embedded run configuration: ", e.what());
  }
  GANTRY_CHECK(c.identity_hash() == checkpoint.run->hash, what, ": '", checkpoint.path,
               "': its embedded run configuration does not match its identity hash ", checkpoint.run->hash,
               " (the metadata was altered)");
  return c;
}

}  // namespace

RecordedRun read_recorded_run(const std::string& path, const std::string& what) {
  const auto [checkpoint_path, config_path] = resolve_checkpoint(path, what);
  RecordedRun run;
  std::optional<MogTrainConfig> from_file;
  if (fs::exists(config_path)) from_file = read_config(config_path, what);
  run.checkpoint = train::read_checkpoint(checkpoint_path);
  if (run.checkpoint.run) {
    const MogTrainConfig embedded = embedded_config(run.checkpoint, what);
    if (from_file) {
      run.config = *from_file;
      run.config_source = config_path;
      if (const auto d = identity_difference(run.config, embedded))
        GANTRY_FAIL(what, ": '", config_path, "' says ", d->key, " = ", d->first, " but the checkpoint '",
                    checkpoint_path, "' was trained with ", d->key, " = ", d->second,
                    "; config.json was changed after training (restore it, or delete it to use the checkpoint's own "
                    "configuration)");
    } else {
      run.config = embedded;
      run.config_source = checkpoint_path + " (embedded configuration)";
      run.notes.push_back("no " + std::string(kConfigFile) + " beside '" + checkpoint_path +
                          "'; using the configuration embedded in the checkpoint");
    }
  } else {
    GANTRY_CHECK(from_file.has_value(), what, ": '", checkpoint_path,
                 "' was written by an older gantry without an embedded run configuration, and there is no ",
                 kConfigFile, " beside it, so nothing says which run it belongs to");
    run.config = *from_file;
    run.config_source = config_path;
    run.notes.push_back("'" + checkpoint_path + "' predates embedded run configurations" +
                        (run.checkpoint.has_checksums ? "" : " and tensor checksums") +
                        "; its configuration is read from '" + config_path + "'");
  }
  GANTRY_CHECK(run.config.steps >= run.checkpoint.step, what, ": '", run.config_source, "' describes a run of ",
               run.config.steps, " steps but the checkpoint '", checkpoint_path, "' is at step ", run.checkpoint.step);
  return run;
}

LoadedMogRun load_mog_run(const std::string& path, const std::string& what, std::optional<int64_t> modes) {
  RecordedRun recorded = read_recorded_run(path, what);
  LoadedMogRun run;
  run.config = recorded.config;
  run.checkpoint_path = recorded.checkpoint.path;
  run.notes = recorded.notes;
  GANTRY_CHECK(!modes || run.config.modes == *modes, "--modes ", *modes, " but the run in '", path, "' was trained on ",
               run.config.modes, " modes");
  const models::MogMlpOptions arch;
  Generator rng(run.config.seed);  // initial weights are replaced by the checkpoint's
  run.generator = models::make_mog_generator(arch, rng);
  run.critic = models::make_mog_critic(arch, rng);
  const optim::AdamOptions adam{run.config.lr, run.config.beta1, run.config.beta2};
  run.generator_optimizer = std::make_unique<optim::Adam>(run.generator->parameters(), adam);
  run.critic_optimizer = std::make_unique<optim::Adam>(run.critic->parameters(), adam);
  train::FullBatchPolicy policy;  // the analyses take their own steps; a saved schedule is not needed
  run.step = train::restore_checkpoint(recorded.checkpoint,
                                       {run.generator.get(), run.critic.get(), run.generator_optimizer.get(),
                                        run.critic_optimizer.get(), &rng, &policy});
  return run;
}

}  // namespace gantry::mog
