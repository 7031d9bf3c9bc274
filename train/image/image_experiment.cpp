#include "train/image/image_experiment.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "engine/autograd/grad_mode.h"
#include "engine/core/cpu_threads.h"
#include "engine/core/error.h"
#include "engine/core/machine_info.h"
#include "engine/io/atomic_file.h"
#include "engine/nn/weight_ema.h"
#include "engine/ops/ops.h"
#include "engine/optim/lr_schedule.h"
#include "eval/plot/image_grid.h"
#include "eval/plot/line_chart.h"
#include "models/image_gan_models.h"
#include "train/checkpoint.h"
#include "train/checkpoint_rotation.h"
#include "train/data/image_dataset.h"
#include "train/experiment_loop.h"
#include "train/image/embedding_cache.h"
#include "train/image/image_data_samplers.h"
#include "train/image/image_embedder.h"
#include "train/image/image_run_loading.h"
#include "train/image/training_evaluation.h"
#include "train/method_settings.h"
#include "train/run_folder_taking.h"

namespace gantry::image {

namespace {

namespace fs = std::filesystem;

constexpr int64_t kGridSamples = 64;  // 8 x 8
constexpr uint64_t kFixedLatentStream = 0x9e3779b97f4a7c15ull;  // the fixed latents' own seed offset

// The learning-rate schedule of a network: constant, or decayed linearly to 0 at the last step (SNGAN).
optim::LrSchedule learning_rate_schedule(const ImageTrainConfig& c, double base) {
  return c.lr_decay == "linear" ? optim::LrSchedule::linear(base, 0, c.steps) : optim::LrSchedule::constant(base);
}

// The EMA generator's shadow weights as a checkpoint part ("ema").
class EmaPart final : public train::CheckpointPart {
 public:
  explicit EmaPart(nn::WeightEma& ema) : ema_(ema) {}
  std::string name() const override { return "ema"; }
  std::vector<std::pair<std::string, Tensor>> tensors() const override { return ema_.state_dict(); }
  void load(const std::vector<std::pair<std::string, Tensor>>& tensors, const nlohmann::json&) override {
    ema_.load_state_dict(tensors);
  }

 private:
  nn::WeightEma& ema_;
};

models::ImageGanConfig model_config(const ImageTrainConfig& c, const data::ImageDatasetInfo& info) {
  models::ImageGanConfig m;
  m.model = c.model;
  m.image_size = c.image_size;
  m.channels = info.channels;
  m.num_classes = c.conditional ? info.num_classes : 0;
  m.latent_dim = c.latent_dim;
  m.generator_width = c.g_width;
  m.critic_width = c.d_width;
  return m;
}

std::shared_ptr<const data::ImageDataset> open_dataset(const ImageTrainConfig& c, const ImageRunOptions& o) {
  data::DatasetOpenOptions open;
  open.image_size = c.image_size;
  open.cache_dir = o.data_cache;
  auto dataset = data::open_image_dataset(c.dataset, open);
  const auto& info = dataset->info();
  GANTRY_CHECK(!c.conditional || info.num_classes > 0, "--conditional: the dataset '", c.dataset,
               "' has no class labels (an image folder is unlabelled); train it unconditionally");
  GANTRY_CHECK(info.size >= c.batch, "--batch: ", c.batch, " is more than the ", info.size, " images of '", c.dataset,
               "'");
  return dataset;
}

// What a data core-set measures its pools by, and where that came from (for metrics.json).
struct CoresetEmbeddingsSetUp {
  std::shared_ptr<const ExampleEmbeddings> embeddings;
  nlohmann::json record;
};

// The raw pixels unprojected are read from the dataset per pool (a cache of them would be a second copy
// of the dataset); every other embedding comes from the embedding cache, built on first use.
CoresetEmbeddingsSetUp coreset_embeddings(const ImageTrainConfig& c, const ImageRunOptions& o,
                                          const std::shared_ptr<const data::ImageDataset>& dataset, Device device) {
  const data::ImageDatasetInfo& info = dataset->info();
  CoresetEmbeddingsSetUp s;
  s.record = {{"embedding", c.coreset_embedding}, {"dim", c.coreset_dim}};
  if (c.coreset_embedding == "pixels" && c.coreset_dim == 0) {
    s.embeddings = std::make_shared<DecodedPixelEmbeddings>(dataset);
    s.record["cache"] = nullptr;
    return s;
  }
  ImageEmbedderOptions eo;
  eo.channels = info.channels;
  eo.height = info.height;
  eo.width = info.width;
  eo.device = device;
  eo.weights = o.coreset_weights;
  const auto embedder = make_image_embedder(c.coreset_embedding, eo);
  const EmbeddingCacheKey key =
      EmbeddingCacheKey::of(info, c.coreset_embedding, *embedder, c.coreset_projection_seed, c.coreset_dim);
  EmbeddingCacheOptions cache;
  cache.folder = o.embedding_cache.empty() ? default_embedding_cache_dir(o.data_cache) : o.embedding_cache;
  cache.progress = o.messages ? stderr : nullptr;
  const CachedEmbeddings cached = load_or_build_embeddings(*dataset, *embedder, key, cache);
  const char* source = cached.source == EmbeddingCacheSource::loaded  ? "loaded"
                       : cached.source == EmbeddingCacheSource::built ? "built"
                                                                      : "rebuilt (stale)";
  s.record["cache"] = {{"file", cached.path}, {"source", source}, {"embedder", key.embedder}};
  if (c.coreset_dim > 0) s.record["projection_seed"] = c.coreset_projection_seed;
  s.embeddings = std::make_shared<TableEmbeddings>(
      cached.points, c.coreset_embedding + (c.coreset_dim > 0 ? ", projected to " + std::to_string(c.coreset_dim)
                                                              : std::string(", unprojected")));
  return s;
}

// Labels 0, 1, ..., k-1, 0, 1, ... for n samples.
Tensor cycled_labels(int64_t n, int64_t k) {
  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) labels[static_cast<size_t>(i)] = i % k;
  return from_vector(labels, {n});
}

// Loss curves from the log's step records: critic loss (top panel, red) and generator loss (bottom
// panel, blue).
class LossHistory {
 public:
  void add(const nlohmann::json& record) {
    if (!record.contains("d_loss") || !record.contains("g_loss")) return;
    steps_.push_back(record.at("step").get<double>());
    d_.push_back(record.at("d_loss").get<double>());
    g_.push_back(record.at("g_loss").get<double>());
  }
  void write_png(const std::string& path) const {
    if (steps_.size() < 2) return;
    const plot::LinePanel critic{{{steps_, d_, {200, 40, 40}, "d_loss"}}, "critic loss (incl. penalties)"};
    const plot::LinePanel generator{{{steps_, g_, {40, 70, 200}, "g_loss"}}, "generator loss (incl. extra terms)"};
    io::write_file_atomic(path, plot::render_line_panels_png({critic, generator}, "generator step"));
  }
  nlohmann::json last() const {
    if (steps_.empty()) return nullptr;
    return {{"step", steps_.back()}, {"d_loss", d_.back()}, {"g_loss", g_.back()}};
  }

 private:
  std::vector<double> steps_, d_, g_;
};

}  // namespace

ImageRunResult run_image_training(const ImageTrainConfig& c, const ImageRunOptions& options) {
  c.validate();
  const auto dataset = open_dataset(c, options);  // before the folder: a missing dataset changes nothing
  const data::ImageDatasetInfo& info = dataset->info();
  const Device device = Device::parse(c.device);
  // Before the folder too: a damaged or stale embedding cache is refused without touching the run.
  CoresetEmbeddingsSetUp coreset;
  if (c.coreset_data) coreset = coreset_embeddings(c, options, dataset, device);
  train::TakenRunFolder taken =
      train::take_run_folder({c.out, recorded_config(c), options.resume, options.restart}, image_run_kind());
  const train::RunFolder& folder = taken.folder;
  ImageRunResult result;
  result.notes = taken.notes;
  train::print_notes(taken.notes, options.messages);
  set_cpu_threads(c.threads);

  Generator rng(c.seed);
  // Built on the CPU and then moved, so every device starts from the same weights.
  models::ImageGanModels nets = models::make_image_gan_models(model_config(c, info), rng);
  nets.generator->to(device);
  nets.critic->to(device);
  const models::ImageGanConfig& arch = nets.config;
  auto g_opt = make_run_optimizer(c, nets.generator->parameters(), c.g_lr);
  auto d_opt = make_run_optimizer(c, nets.critic->parameters(), c.d_lr);

  data::ImageLoaderOptions loader_options;
  loader_options.batch_size = c.batch;
  loader_options.random_flip = c.random_flip;
  loader_options.seed = c.seed;
  auto epoch_sampler = std::make_unique<EpochImageSampler>(dataset, loader_options, device);
  // An epoch is one pass of the critic over the training set.
  const int64_t epoch_steps = std::max<int64_t>(1, epoch_sampler->batches_per_epoch() / c.d_steps);
  std::unique_ptr<train::DataSampler> coreset_sampler;
  if (c.coreset_data)
    coreset_sampler = std::make_unique<CoresetImageSampler>(dataset, coreset.embeddings, train::CoresetFactor{c.fx},
                                                            c.random_flip, device);
  train::DataSampler& data_sampler = coreset_sampler ? *coreset_sampler : *epoch_sampler;
  std::unique_ptr<train::LatentSampler> latents;
  if (c.coreset_prior)
    latents = std::make_unique<train::CoresetLatentSampler>(arch.latent_dim, train::CoresetFactor{c.fz}, device);
  else
    latents = std::make_unique<train::PriorLatentSampler>(arch.latent_dim, device);
  auto policy = train::make_update_policy(c, c.decay_every > 0 ? c.decay_every : epoch_steps);

  train::GanTrainerOptions t;
  t.batch_size = c.batch;
  t.critic_steps = c.d_steps;
  t.loss = train::parse_gan_loss(c.loss);
  t.log_every = c.log_every;
  t.stop = options.stop_requested;
  t.num_classes = arch.num_classes;
  t.generate = [&nets](const Tensor& z, const Tensor& y) { return nets.generate(z, y); };
  t.score = [&nets](const Tensor& x, const Tensor& y) { return nets.score(x, y); };
  if (c.gp_weight > 0) t.critic_regularizers.push_back(std::make_shared<train::GradientPenalty>(c.gp_weight));
  if (c.r1_gamma > 0) t.critic_regularizers.push_back(std::make_shared<train::R1Penalty>(c.r1_gamma));
  if (c.clip > 0) t.critic_regularizers.push_back(std::make_shared<train::WeightClipping>(c.clip));
  if (c.ms_weight > 0) t.generator_terms.push_back(std::make_shared<train::ModeSeekingTerm>(c.ms_weight));
  train::GanTrainer trainer(*nets.generator, *nets.critic, *g_opt, *d_opt, *latents, data_sampler, *policy, rng, t);

  train::RunState state{nets.generator.get(), nets.critic.get(), g_opt.get(), d_opt.get(), &rng, policy.get(), {}};
  ArchitecturePart architecture(arch);
  state.parts.push_back(&architecture);
  // The EMA generator: shadow weights averaged after every step, sampled through a second generator.
  std::unique_ptr<nn::WeightEma> ema;
  std::unique_ptr<EmaPart> ema_part;
  models::ImageGanModels ema_nets;
  if (c.ema_decay > 0) {
    ema = std::make_unique<nn::WeightEma>(*nets.generator, nn::WeightEmaOptions{c.ema_decay, c.ema_start});
    ema_part = std::make_unique<EmaPart>(*ema);
    state.parts.push_back(ema_part.get());
    Generator unused(c.seed);
    ema_nets = models::make_image_gan_models(arch, unused);
    ema_nets.generator->to(device);
  }
  if (!coreset_sampler) state.parts.push_back(epoch_sampler.get());
  const std::string checkpoint_path = folder.file(kImageCheckpointFile);
  const train::RunIdentity identity{c.to_json(), c.identity_hash()};
  if (taken.resumed) {
    trainer.set_steps_done(train::restore_checkpoint(taken.resumed->checkpoint, state));
    trainer.note_checkpoint(trainer.steps_done());
  }
  const optim::LrSchedule g_schedule = learning_rate_schedule(c, c.g_lr), d_schedule = learning_rate_schedule(c, c.d_lr);
  const auto apply_learning_rates = [&](int64_t step) {
    g_schedule.apply(*g_opt, step);
    d_schedule.apply(*d_opt, step);
  };
  apply_learning_rates(trainer.steps_done());
  folder.write_json(kImageConfigFile, c.to_json());
  train::JsonLinesLog log = options.resume ? train::JsonLinesLog(folder.file(kImageLogFile), trainer.steps_done())
                                           : train::JsonLinesLog(folder.file(kImageLogFile));
  LossHistory losses;
  for (const auto& record : log.kept_records()) losses.add(record);

  // Fixed latents (and classes 0, 1, ... in turn) from their own stream: every grid shows the same
  // samples, and drawing them does not touch the training RNG.
  Generator fixed_rng(c.seed ^ kFixedLatentStream);
  const Tensor fixed_z = randn({kGridSamples, arch.latent_dim}, fixed_rng).to(device);
  const Tensor fixed_y =
      arch.num_classes > 0 ? cycled_labels(kGridSamples, arch.num_classes).to(device) : Tensor();
  const auto write_grid = [&](models::ImageGanModels& from, const char* prefix, const char* latest, int64_t step) {
    Tensor images;
    {
      NoGradGuard no_grad;
      from.generator->eval();  // running statistics: sampling leaves the training state as it was
      images = from.generate(fixed_z, fixed_y);
      from.generator->train();
    }
    fs::create_directories(folder.file(kImageSamplesFolder));
    char name[64];
    std::snprintf(name, sizeof name, "%sstep_%07lld.png", prefix, static_cast<long long>(step));
    plot::write_image_grid_png((fs::path(folder.file(kImageSamplesFolder)) / name).string(), images, 8);
    plot::write_image_grid_png(folder.file(latest), images, 8);
  };
  const auto write_samples = [&](int64_t step) {
    write_grid(nets, "", kImageSamplesFile, step);
    if (ema) {
      ema->copy_to(*ema_nets.generator);
      write_grid(ema_nets, "ema_", kImageEmaSamplesFile, step);
    }
    losses.write_png(folder.file(kImageLossesFile));
  };

  // Evaluation (the reference statistics are computed or read from their cache here, before training).
  std::unique_ptr<TrainingEvaluation> evaluation;
  if (c.eval_every > 0)
    evaluation = std::make_unique<TrainingEvaluation>(c, options, folder, device,
                                                      taken.resumed ? trainer.steps_done() : int64_t{-1});
  const auto evaluate = [&](int64_t step) {
    models::ImageGanModels* scored = &nets;
    if (ema) {
      ema->copy_to(*ema_nets.generator);
      scored = &ema_nets;
    }
    const double value = evaluation->evaluate(
        *scored, step, [&](const std::string& path) { train::save_checkpoint(path, state, step, identity); });
    if (options.messages) {
      const nlohmann::json s = evaluation->summary();
      std::fprintf(options.messages, "eval step %lld: %s %.4f (best %.4f at step %lld)\n", static_cast<long long>(step),
                   s["metric"].get<std::string>().c_str(), value, s["best"]["value"].get<double>(),
                   static_cast<long long>(s["best"]["step"].get<int64_t>()));
      std::fflush(options.messages);
    }
  };

  train::ExperimentLoopOptions loop;
  loop.total_steps = c.steps;
  loop.stop_after = options.stop_after;
  loop.checkpoint_every = c.checkpoint_every;
  loop.resumed = taken.resumed.has_value();
  loop.progress = options.progress;
  loop.on_step = options.on_step;
  loop.after_step = [&](const train::GanStepStats& s) {
    if (c.log_every > 0 && s.step % c.log_every == 0) losses.add(s.to_json());
    if (ema) ema->update(s.step - 1);  // the step just taken, counted from 0
    apply_learning_rates(s.step);
    if (c.sample_every > 0 && s.step % c.sample_every == 0) write_samples(s.step);
    if (evaluation && evaluation->due(s.step)) evaluate(s.step);
  };
  loop.save_checkpoint = [&](int64_t step) {
    train::save_checkpoint(checkpoint_path, state, step, identity);
    train::keep_step_checkpoint(checkpoint_path, folder.file(kImageCheckpointsFolder), step, c.keep_checkpoints);
  };
  const train::ExperimentLoopResult ran = train::run_experiment_loop(trainer, log, loop);
  result.steps_done = ran.steps_done;
  result.stopped = ran.stopped;
  if (ran.stopped) return result;  // interrupted: the checkpoint is all a resume needs
  result.seconds = ran.seconds;
  result.steps_per_second = ran.steps_per_second();
  write_samples(ran.steps_done);
  if (evaluation && ran.trained && ran.steps_done == c.steps && !evaluation->due(ran.steps_done))
    evaluate(ran.steps_done);  // the finished model
  nlohmann::json metrics{{"step", ran.steps_done},
                         {"finished", ran.steps_done == c.steps},
                         {"model", c.model},
                         {"method", c.method_name()},
                         {"run_id", c.identity_hash()},
                         {"dataset", {{"name", info.name}, {"size", info.size}, {"identity", info.identity}}},
                         {"seed", c.seed},
                         {"coreset_data", c.coreset_data ? coreset.record : nlohmann::json()},
                         {"last_logged", losses.last()},
                         {"samples", {{"count", kGridSamples}, {"generator_mode", "eval (running BN statistics)"}}},
                         {"steps_per_second", result.steps_per_second},
                         {"train_seconds", ran.seconds},
                         {"train_cpu_seconds", ran.cpu_seconds},
                         {"machine", this_machine().to_json()}};
  if (evaluation) metrics["evaluation"] = evaluation->summary();
  if (!ran.trained) train::keep_training_timing(folder, kImageMetricsFile, ran.steps_done, metrics);
  folder.write_json(kImageMetricsFile, metrics);
  return result;
}

}  // namespace gantry::image
