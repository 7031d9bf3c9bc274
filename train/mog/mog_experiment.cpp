#include "train/mog/mog_experiment.h"

#include <memory>

#include "engine/core/cpu_threads.h"
#include "engine/core/machine_info.h"
#include "engine/io/npz.h"
#include "engine/ops/ops.h"
#include "engine/optim/adam.h"
#include "eval/plot/mog_scatter_plot.h"
#include "models/mog_mlp.h"
#include "train/checkpoint.h"
#include "train/data/mixture_data_source.h"
#include "train/experiment_loop.h"
#include "train/method_settings.h"
#include "train/mog/mog_evaluation.h"
#include "train/mog/mog_run_folder.h"
#include "train/run_folder.h"

namespace gantry::mog {

namespace {

std::unique_ptr<train::LatentSampler> make_latent_sampler(const MogTrainConfig& c, int64_t latent_dim,
                                                          Device device) {
  if (!c.coreset_prior) return std::make_unique<train::PriorLatentSampler>(latent_dim, device, c.latent_prior());
  return std::make_unique<train::CoresetLatentSampler>(latent_dim, train::CoresetFactor{c.fz, c.anneal, c.steps},
                                                       device, c.latent_prior());
}

std::unique_ptr<train::DataSampler> make_data_sampler(const MogTrainConfig& c,
                                                      std::shared_ptr<train::RealDataSource> source) {
  if (!c.coreset_data) return std::make_unique<train::UniformDataSampler>(std::move(source));
  return std::make_unique<train::CoresetDataSampler>(std::move(source), train::CoresetFactor{c.fx, c.anneal, c.steps});
}

}  // namespace

MogRunResult run_mog_training(const MogTrainConfig& c, const MogRunOptions& options) {
  c.validate();
  train::TakenRunFolder taken = take_run_folder(c, options.resume, options.restart);
  const train::RunFolder& folder = taken.folder;
  MogRunResult result;
  result.notes = taken.notes;
  train::print_notes(taken.notes, options.messages);
  set_cpu_threads(c.threads);

  const models::MogMlpOptions arch = c.arch();
  const data::MixtureOfGaussians mixture = c.mixture();
  const Device device = Device::parse(c.device);
  Generator rng(c.seed);
  // Initialised on the CPU and then moved, so every device starts from the same weights.
  auto generator = models::make_mog_generator(arch, rng);
  auto critic = models::make_mog_critic(arch, rng);
  generator->to(device);
  critic->to(device);
  const optim::AdamOptions adam{c.lr, c.beta1, c.beta2};
  optim::Adam g_opt(generator->parameters(), adam);
  optim::Adam d_opt(critic->parameters(), adam);
  auto policy = train::make_update_policy(c, c.decay_every);
  auto latents = make_latent_sampler(c, arch.latent_dim, device);
  auto data = make_data_sampler(c, std::make_shared<data::MixtureDataSource>(mixture, device));

  train::GanTrainerOptions trainer_options;
  trainer_options.batch_size = c.batch;
  trainer_options.critic_steps = c.d_steps;
  trainer_options.loss = train::parse_gan_loss(c.loss);
  trainer_options.log_every = c.log_every;
  trainer_options.stop = options.stop_requested;
  train::GanTrainer trainer(*generator, *critic, g_opt, d_opt, *latents, *data, *policy, rng, trainer_options);

  const train::RunState state{generator.get(), critic.get(), &g_opt, &d_opt, &rng, policy.get(), {}};
  const std::string checkpoint_path = folder.file(kCheckpointFile);
  const train::RunIdentity identity{c.to_json(), c.identity_hash()};
  if (taken.resumed) {
    trainer.set_steps_done(train::restore_checkpoint(taken.resumed->checkpoint, state));
    trainer.note_checkpoint(trainer.steps_done());
  }
  const int64_t first_step = trainer.steps_done();
  folder.write_json(kConfigFile, c.to_json());
  train::JsonLinesLog log = options.resume ? train::JsonLinesLog(folder.file(kLogFile), first_step)
                                           : train::JsonLinesLog(folder.file(kLogFile));

  nlohmann::json eval_history = nlohmann::json::array();
  for (const auto& record : log.kept_records())  // evaluations from before a resume
    if (record.contains("eval")) eval_history.push_back(record);

  train::ExperimentLoopOptions loop;
  loop.total_steps = c.steps;
  loop.stop_after = options.stop_after;
  loop.checkpoint_every = c.checkpoint_every;
  loop.resumed = taken.resumed.has_value();
  loop.progress = options.progress;
  loop.on_step = options.on_step;
  loop.after_step = [&](const train::GanStepStats& s) {
    if (c.eval_every > 0 && s.step % c.eval_every == 0 && s.step != c.steps) {
      const auto e =
          evaluate_generator(*generator, mixture, c.eval_samples, arch.latent_dim, c.latent_prior(), c.seed, device);
      nlohmann::json rec{{"step", s.step}, {"eval", e.metrics.to_json()}};
      rec["eval"].erase("high_quality_per_mode");
      rec["eval"].erase("assigned_per_mode");
      log.write(rec);
      eval_history.push_back(rec);
    }
  };
  loop.save_checkpoint = [&](int64_t step) { train::save_checkpoint(checkpoint_path, state, step, identity); };
  const train::ExperimentLoopResult ran = train::run_experiment_loop(trainer, log, loop);
  const double seconds = ran.seconds, cpu_seconds = ran.cpu_seconds;
  const bool trained = ran.trained;

  result.steps_done = trainer.steps_done();
  result.stopped = ran.stopped;
  if (result.stopped) return result;  // interrupted: the checkpoint is all a resume needs
  result.seconds = seconds;
  result.cpu_seconds = cpu_seconds;
  result.steps_per_second = ran.steps_per_second();
  const auto final_eval =
      evaluate_generator(*generator, mixture, c.eval_samples, arch.latent_dim, c.latent_prior(), c.seed, device);
  result.metrics = final_eval.metrics;
  nlohmann::json metrics{{"step", result.steps_done},
                         {"finished", result.steps_done == c.steps},
                         {"method", c.method_name()},
                         {"run_id", c.identity_hash()},
                         {"modes", c.modes},
                         {"seed", c.seed},
                         {"final", final_eval.metrics.to_json()},
                         {"steps_per_second", result.steps_per_second},
                         {"train_seconds", seconds},
                         {"train_cpu_seconds", cpu_seconds},
                         // The trajectory of a seed depends on the CPU's BLAS kernels: name them.
                         {"machine", this_machine().to_json()},
                         {"history", eval_history}};
  if (!trained) train::keep_training_timing(folder, kMetricsFile, result.steps_done, metrics);
  io::save_npz(folder.file(kEvalSamplesFile), {{"samples", final_eval.samples}});
  folder.write_json(kMetricsFile, metrics);
  if (options.write_samples_png)
    plot::write_mog_scatter_png(folder.file(kSamplesFile), final_eval.samples, mixture);
  return result;
}

}  // namespace gantry::mog
