// gantry mog directions: the top-k paper's update-direction analysis (Sec. 4.3, Figs. 2-3) on a
// mixture-of-Gaussians baseline, either loaded from a `gantry mog train` run or trained first.

#include <cstdio>
#include <filesystem>
#include <memory>

#include "engine/core/cpu_threads.h"
#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/optim/adam.h"
#include "engine/random/generator.h"
#include "eval/update_direction.h"
#include "eval/update_direction_report.h"
#include "models/mog_mlp.h"
#include "train/cli/arg_parser.h"
#include "train/cli/mog_commands.h"
#include "train/mog/mog_experiment.h"
#include "train/mog/mog_run_folder.h"
#include "train/mog/mog_run_loading.h"
#include "train/run_folder.h"

namespace gantry::cli {

namespace {

// The probe and update latents come from their own stream, so they do not depend on how the
// baseline was obtained.
constexpr uint64_t kLatentSeedSalt = 0x5d1c7e0f3a9b2468ULL;

ArgParser make_parser() {
  ArgParser p("gantry mog directions",
              "Update-direction analysis (top-k paper Sec. 4.3, Figs. 2-3): from one baseline generator, critic and\n"
              "Adam state, take one generator step on the top 75% (top-k) or the bottom 25% (bottom-k) of a\n"
              "10,000-sample batch and measure how 1,000 fixed samples move relative to their nearest mode, per bin\n"
              "of distance-before in mode stds. Writes directions.csv, directions.json and directions.png into --out.\n"
              "The baseline is --checkpoint (a `gantry mog train` run folder or checkpoint file) or, without it, a\n"
              "baseline trained first for --train-steps steps into <out>/baseline.");
  p.option("checkpoint", "PATH", "baseline run folder or checkpoint.safetensors (default: train one)")
      .option("train-steps", "N", "steps of the baseline trained when no --checkpoint is given", "50000")
      .option("modes", "M", "number of modes of the mixture (a checkpoint's config.json must agree)", "25")
      .option("seed", "S", "seed of the baseline training and of the latents", "0")
      .option("latents", "N", "probe samples whose movement is measured", "1000")
      .option("batch", "B", "update batch the step selects from", "10000")
      .option("top", "F", "fraction of the batch the top-k step keeps", "0.75")
      .option("bottom", "F", "fraction of the batch the bottom-k step keeps", "0.25")
      .option("threads", "N", "CPU threads (the GEMMs and the engine's own kernels)", "1")
      .option("out", "DIR", "output folder (created; must be writable)")
      .flag("restart", "retrain the baseline even when <out>/baseline already holds one (discarding it)")
      .flag("quiet", "no progress output while training the baseline");
  return p;
}

std::string train_baseline(const ArgParser& p, const std::string& out) {
  mog::MogTrainConfig c;
  c.modes = p.int64("modes");
  c.steps = p.int64("train-steps");
  const int64_t seed = p.int64("seed");
  GANTRY_CHECK(seed >= 0, "--seed: must be >= 0, got ", seed);
  c.seed = static_cast<uint64_t>(seed);
  c.threads = static_cast<int>(p.int64("threads"));
  c.out = (std::filesystem::path(out) / "baseline").string();
  c.validate();
  // A baseline trained by an earlier invocation is kept unless --restart says to discard it.
  GANTRY_CHECK(p.flag_set("restart") || mog::run_files_in(c.out).empty(), "mog directions: '", c.out,
               "' already holds a baseline run; analyse it again with --checkpoint ", c.out,
               ", or pass --restart to discard it and train a new one");
  mog::MogRunOptions options;
  options.restart = p.flag_set("restart");
  options.progress = p.flag_set("quiet") ? nullptr : stdout;
  std::printf("mog directions: training the baseline (%lld modes, %lld steps, seed %llu) -> %s\n",
              static_cast<long long>(c.modes), static_cast<long long>(c.steps),
              static_cast<unsigned long long>(c.seed), c.out.c_str());
  std::fflush(stdout);
  const mog::MogRunResult r = mog::run_mog_training(c, options);
  std::printf("baseline: high-quality %.2f%%  modes recovered %.2f%%  %.1f steps/s\n",
              r.metrics.high_quality_percent, r.metrics.modes_recovered_percent, r.steps_per_second);
  return c.out;
}

nlohmann::json protocol_json(const mog::LoadedMogRun& b, const ArgParser& p, int64_t latents, int64_t batch) {
  return nlohmann::json{{"baseline_checkpoint", b.checkpoint_path},
                        {"baseline_step", b.step},
                        {"baseline_method", b.config.method_name()},
                        {"modes", b.config.modes},
                        {"mode_std", data::MixtureOfGaussians::kDefaultStd},
                        {"loss", b.config.loss},
                        {"seed", p.int64("seed")},
                        {"latents", latents},
                        {"batch", batch},
                        {"top_fraction", p.real("top")},
                        {"bottom_fraction", p.real("bottom")},
                        {"bins_std", eval::kPaperBinEdgesStd}};
}

}  // namespace

int mog_directions_command(const std::vector<std::string>& args) {
  ArgParser p = make_parser();
  if (!p.parse(args)) return 0;
  GANTRY_CHECK(!(p.given("checkpoint") && p.given("train-steps")), "--checkpoint and --train-steps are mutually exclusive");
  GANTRY_CHECK(!(p.given("checkpoint") && p.flag_set("restart")),
               "--restart applies to a baseline trained here, not to --checkpoint");
  const int64_t latents = p.int64("latents"), batch = p.int64("batch");
  GANTRY_CHECK(latents >= 1, "--latents: must be >= 1, got ", latents);
  GANTRY_CHECK(batch >= 1, "--batch: must be >= 1, got ", batch);
  for (const char* fraction : {"top", "bottom"})
    GANTRY_CHECK(p.real(fraction) > 0 && p.real(fraction) <= 1, "--", fraction, ": must be in (0, 1], got ",
                 p.real(fraction));
  const int64_t top_k = eval::kept_count(batch, p.real("top")), bottom_k = eval::kept_count(batch, p.real("bottom"));
  const int threads = static_cast<int>(p.int64("threads"));
  GANTRY_CHECK(threads >= 1, "--threads: must be >= 1, got ", threads);
  const std::string out = p.str("out");
  train::RunFolder folder(out);  // fails on an unwritable --out before any training
  set_cpu_threads(threads);

  const std::string source = p.given("checkpoint") ? p.str("checkpoint") : train_baseline(p, out);
  const mog::LoadedMogRun b = mog::load_mog_run(
      source, "--checkpoint", p.given("modes") ? std::optional<int64_t>(p.int64("modes")) : std::nullopt);
  for (const auto& note : b.notes) std::printf("note: %s\n", note.c_str());
  if (b.config.selection != mog::BatchSelection::full)
    std::printf("note: the baseline was trained with %s, not the paper's plain GAN\n", b.config.method_name().c_str());

  const data::MixtureOfGaussians mixture = b.config.mixture();
  Generator latent_rng(static_cast<uint64_t>(p.int64("seed")) ^ kLatentSeedSalt);
  eval::UpdateDirectionInputs in;
  in.generator = b.generator.get();
  in.critic = b.critic.get();
  in.generator_optimizer = b.generator_optimizer.get();
  in.make_generator = [arch = b.config.arch()] {
    Generator unused(0);
    return models::make_mog_generator(arch, unused);
  };
  in.make_generator_optimizer = [](std::vector<Tensor> params) {
    return std::make_unique<optim::Adam>(std::move(params));
  };
  in.mixture = &mixture;
  const train::LatentPrior prior = b.config.latent_prior();
  in.probe_latents = train::draw_latents(prior, latents, b.config.latent_dim, latent_rng);
  in.update_latents = train::draw_latents(prior, batch, b.config.latent_dim, latent_rng);
  in.loss = train::parse_gan_loss(b.config.loss);

  std::printf("mog directions: baseline step %lld from %s; %lld probes, batch %lld, top-k %lld, bottom-k %lld\n",
              static_cast<long long>(b.step), b.checkpoint_path.c_str(), static_cast<long long>(latents),
              static_cast<long long>(batch), static_cast<long long>(top_k), static_cast<long long>(bottom_k));
  const auto top = eval::analyse_update_direction(in, eval::KeptSamples::top_k, p.real("top"));
  const auto bottom = eval::analyse_update_direction(in, eval::KeptSamples::bottom_k, p.real("bottom"));

  std::printf("\nmean cosine(displacement, direction to nearest mode) and mean change of distance to that mode\n"
              "(data units; < 0 = closer), per bin of distance before the step in mode stds (%.2f):\n\n%s",
              mixture.std(), eval::format_direction_table(top, bottom).c_str());
  io::write_file_atomic(folder.file("directions.csv"), eval::direction_csv(top, bottom));
  folder.write_json("directions.json", nlohmann::json{{"protocol", protocol_json(b, p, latents, batch)},
                                                      {"top_k", top.to_json()},
                                                      {"bottom_k", bottom.to_json()}});
  io::write_file_atomic(folder.file("directions.png"), eval::render_direction_chart_png(top, bottom));
  std::printf("\nwrote %s/directions.csv, directions.json, directions.png (top: mean cosine, bottom: mean distance\n"
              "change; per bin green = top-k, red = bottom-k)\n", out.c_str());
  return 0;
}

}  // namespace gantry::cli
