#include "train/mog/mog_experiment.h"

#include <cblas.h>

#include <chrono>
#include <ctime>
#include <memory>

#include "engine/ops/ops.h"
#include "engine/optim/adam.h"
#include "eval/plot/mog_scatter_plot.h"
#include "models/mog_mlp.h"
#include "train/checkpoint.h"
#include "train/data/mixture_data_source.h"
#include "train/mog/mog_evaluation.h"
#include "train/progress_display.h"
#include "train/run_folder.h"

namespace gantry::mog {

namespace {

std::unique_ptr<train::GeneratorUpdatePolicy> make_policy(const MogTrainConfig& c) {
  if (c.selection == BatchSelection::full) return std::make_unique<train::FullBatchPolicy>();
  train::TopKSchedule schedule(c.batch, c.gamma, c.nu_count(), c.decay_every);
  return std::make_unique<train::TopKPolicy>(schedule, train::parse_selection_target(c.topk_target),
                                             c.selection == BatchSelection::top_k);
}

std::unique_ptr<train::LatentSampler> make_latent_sampler(const MogTrainConfig& c, int64_t latent_dim,
                                                          Device device) {
  if (!c.coreset_prior) return std::make_unique<train::PriorLatentSampler>(latent_dim, device);
  return std::make_unique<train::CoresetLatentSampler>(latent_dim, train::CoresetFactor{c.fz, c.anneal, c.steps},
                                                       device);
}

std::unique_ptr<train::DataSampler> make_data_sampler(const MogTrainConfig& c,
                                                      std::shared_ptr<train::RealDataSource> source) {
  if (!c.coreset_data) return std::make_unique<train::UniformDataSampler>(std::move(source));
  return std::make_unique<train::CoresetDataSampler>(std::move(source), train::CoresetFactor{c.fx, c.anneal, c.steps});
}

void check_resumable(const train::RunFolder& folder, const MogTrainConfig& c) {
  GANTRY_CHECK(folder.exists(kCheckpointFile), "--resume: no ", kCheckpointFile, " in '", folder.root(), "'");
  if (!folder.exists(kConfigFile)) return;
  const MogTrainConfig saved = MogTrainConfig::from_json(folder.read_json(kConfigFile));
  const auto a = saved.identity_json(), b = c.identity_json();
  for (const auto& [key, value] : a.items())
    GANTRY_CHECK(b.at(key) == value, "--resume: the run in '", folder.root(), "' was started with ", key, " = ",
                 value.dump(), " but this invocation has ", key, " = ", b.at(key).dump());
}

}  // namespace

MogRunResult run_mog_training(const MogTrainConfig& c, const MogRunOptions& options) {
  c.validate();
  train::RunFolder folder(c.out);
  if (options.resume) check_resumable(folder, c);
  openblas_set_num_threads(c.threads);

  const models::MogMlpOptions arch;
  const data::MixtureOfGaussians mixture(c.modes);
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
  auto policy = make_policy(c);
  auto latents = make_latent_sampler(c, arch.latent_dim, device);
  auto data = make_data_sampler(c, std::make_shared<data::MixtureDataSource>(mixture, device));

  train::GanTrainerOptions trainer_options;
  trainer_options.batch_size = c.batch;
  trainer_options.critic_steps = c.d_steps;
  trainer_options.loss = train::parse_gan_loss(c.loss);
  trainer_options.log_every = c.log_every;
  trainer_options.stop = options.stop_requested;
  train::GanTrainer trainer(*generator, *critic, g_opt, d_opt, *latents, *data, *policy, rng, trainer_options);

  const train::RunState state{generator.get(), critic.get(), &g_opt, &d_opt, &rng, policy.get()};
  const std::string checkpoint_path = folder.file(kCheckpointFile);
  if (options.resume) trainer.set_steps_done(train::load_checkpoint(checkpoint_path, state));
  const int64_t first_step = trainer.steps_done();
  folder.write_json(kConfigFile, c.to_json());
  train::JsonLinesLog log = options.resume ? train::JsonLinesLog(folder.file(kLogFile), first_step)
                                           : train::JsonLinesLog(folder.file(kLogFile));

  std::unique_ptr<train::ProgressDisplay> progress;
  if (options.progress)
    progress = std::make_unique<train::ProgressDisplay>(options.progress, first_step,
                                                        std::max<int64_t>(1, c.steps / 20));
  nlohmann::json eval_history = nlohmann::json::array();
  for (const auto& record : log.kept_records())  // evaluations from before a resume
    if (record.contains("eval")) eval_history.push_back(record);
  train::ProgressSnapshot snapshot{first_step, c.steps};
  const int64_t last_step =
      options.stop_after >= 0 ? std::min(c.steps, first_step + options.stop_after) : c.steps;
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();

  trainer.run(last_step, &log, [&](const train::GanStepStats& s) {
    if (options.on_step) options.on_step(s);
    if (c.eval_every > 0 && s.step % c.eval_every == 0 && s.step != c.steps) {
      const auto e = evaluate_generator(*generator, mixture, c.eval_samples, arch.latent_dim, c.seed, device);
      nlohmann::json rec{{"step", s.step}, {"eval", e.metrics.to_json()}};
      rec["eval"].erase("high_quality_per_mode");
      log.write(rec);
      eval_history.push_back(rec);
    }
    if (c.checkpoint_every > 0 && s.step % c.checkpoint_every == 0) train::save_checkpoint(checkpoint_path, state, s.step);
    snapshot = {s.step, c.steps, s.critic_loss, s.generator_loss, s.k};
    if (progress) progress->update(snapshot);
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Wall time counts any time the process was stopped or waited for a core; CPU time (all threads) does not.
  const double cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  if (progress) progress->finish(snapshot);
  train::save_checkpoint(checkpoint_path, state, trainer.steps_done());

  MogRunResult result;
  result.steps_done = trainer.steps_done();
  result.stopped = result.steps_done < last_step;
  if (result.stopped) return result;  // interrupted: the checkpoint is all a resume needs
  result.seconds = seconds;
  result.cpu_seconds = cpu_seconds;
  result.steps_per_second = seconds > 0 ? static_cast<double>(trainer.steps_done() - first_step) / seconds : 0;
  const auto final_eval = evaluate_generator(*generator, mixture, c.eval_samples, arch.latent_dim, c.seed, device);
  result.metrics = final_eval.metrics;
  nlohmann::json metrics{{"step", result.steps_done},
                         {"finished", result.steps_done == c.steps},
                         {"method", c.method_name()},
                         {"modes", c.modes},
                         {"seed", c.seed},
                         {"final", final_eval.metrics.to_json()},
                         {"steps_per_second", result.steps_per_second},
                         {"train_seconds", seconds},
                         {"train_cpu_seconds", cpu_seconds},
                         {"history", eval_history}};
  folder.write_json(kMetricsFile, metrics);
  if (options.write_samples_png)
    plot::write_mog_scatter_png(folder.file(kSamplesFile), final_eval.samples, mixture);
  return result;
}

}  // namespace gantry::mog
