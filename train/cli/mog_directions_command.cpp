// gantry mog directions: the top-k paper's update-direction analysis (Sec. 4.3, Figs. 2-3) on a
// mixture-of-Gaussians baseline, either loaded from a `gantry mog train` run or trained first.

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

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
              "baseline trained first for --train-steps steps into <out>/baseline. With --at-steps the baseline is\n"
              "trained in stages and analysed at each listed step (one run: each stage resumes the previous one),\n"
              "into <out>/step_<N>/, with a table over training in <out>/directions_over_training.{md,json}.");
  p.option("checkpoint", "PATH", "baseline run folder or checkpoint.safetensors (default: train one)")
      .option("train-steps", "N", "steps of the baseline trained when no --checkpoint is given", "50000")
      .option("at-steps", "LIST", "analyse the trained baseline at each of these steps (increasing), e.g.\n"
              "5000,25000,50000 (early, middle, end); the last is the training length")
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

// Trains the baseline in <out>/baseline to `steps`: afresh for the first stage, resuming the previous
// stage's checkpoint for the later ones (bit-identical to one uninterrupted run).
std::string train_baseline(const ArgParser& p, const std::string& out, int64_t steps, bool first_stage) {
  mog::MogTrainConfig c;
  c.modes = p.int64("modes");
  c.steps = steps;
  const int64_t seed = p.int64("seed");
  GANTRY_CHECK(seed >= 0, "--seed: must be >= 0, got ", seed);
  c.seed = static_cast<uint64_t>(seed);
  c.threads = static_cast<int>(p.int64("threads"));
  c.out = (std::filesystem::path(out) / "baseline").string();
  c.validate();
  mog::MogRunOptions options;
  if (first_stage) {
    // A baseline trained by an earlier invocation is kept unless --restart says to discard it.
    GANTRY_CHECK(p.flag_set("restart") || mog::run_files_in(c.out).empty(), "mog directions: '", c.out,
                 "' already holds a baseline run; analyse it again with --checkpoint ", c.out,
                 ", or pass --restart to discard it and train a new one");
    options.restart = p.flag_set("restart");
  } else {
    options.resume = true;
  }
  options.progress = p.flag_set("quiet") ? nullptr : stdout;
  std::printf("mog directions: training the baseline (%lld modes, to step %lld, seed %llu) -> %s\n",
              static_cast<long long>(c.modes), static_cast<long long>(c.steps),
              static_cast<unsigned long long>(c.seed), c.out.c_str());
  std::fflush(stdout);
  const mog::MogRunResult r = mog::run_mog_training(c, options);
  std::printf("baseline at step %lld: high-quality %.2f%%  modes recovered %.2f%%  %.1f steps/s\n",
              static_cast<long long>(r.steps_done), r.metrics.high_quality_percent, r.metrics.modes_recovered_percent,
              r.steps_per_second);
  return c.out;
}

struct DirectionSettings {
  int64_t latents = 0, batch = 0, top_k = 0, bottom_k = 0;
  double top = 0, bottom = 0;
  uint64_t seed = 0;
  std::optional<int64_t> modes;  // when given, the baseline must have this many
};

nlohmann::json protocol_json(const mog::LoadedMogRun& b, const DirectionSettings& s) {
  return nlohmann::json{{"baseline_checkpoint", b.checkpoint_path},
                        {"baseline_step", b.step},
                        {"baseline_method", b.config.method_name()},
                        {"modes", b.config.modes},
                        {"mode_std", data::MixtureOfGaussians::kDefaultStd},
                        {"loss", b.config.loss},
                        {"seed", s.seed},
                        {"latents", s.latents},
                        {"batch", s.batch},
                        {"top_fraction", s.top},
                        {"bottom_fraction", s.bottom},
                        {"bins_std", eval::kPaperBinEdgesStd}};
}

struct AnalysedBaseline {
  int64_t step = 0;
  eval::UpdateDirectionResult top, bottom;
  nlohmann::json protocol;
};

// The analysis of the baseline in `source`, printed and written into `folder` (directions.csv,
// directions.json, directions.png).
AnalysedBaseline analyse_baseline(const std::string& source, const DirectionSettings& s,
                                  const train::RunFolder& folder) {
  const mog::LoadedMogRun b = mog::load_mog_run(source, "--checkpoint", s.modes);
  for (const auto& note : b.notes) std::printf("note: %s\n", note.c_str());
  if (b.config.selection != mog::BatchSelection::full)
    std::printf("note: the baseline was trained with %s, not the paper's plain GAN\n", b.config.method_name().c_str());

  const data::MixtureOfGaussians mixture = b.config.mixture();
  // The same latents at every point of training, so the points differ only in the networks.
  Generator latent_rng(s.seed ^ kLatentSeedSalt);
  eval::UpdateDirectionInputs in;
  in.generator = b.generator.get();
  in.critic = b.critic.get();
  in.generator_optimizer = b.generator_optimizer.get();
  in.make_generator = [arch = b.config.arch()] {
    Generator unused(0);
    return models::make_mog_generator(arch, unused);
  };
  in.make_generator_optimizer = [](std::vector<Tensor> params) {
    return std::make_unique<optim::Adam>(std::move(params));  // its options come with the copied state
  };
  in.mixture = &mixture;
  const train::LatentPrior prior = b.config.latent_prior();
  in.probe_latents = train::draw_latents(prior, s.latents, b.config.latent_dim, latent_rng);
  in.update_latents = train::draw_latents(prior, s.batch, b.config.latent_dim, latent_rng);
  in.loss = train::parse_gan_loss(b.config.loss);

  std::printf("mog directions: baseline step %lld from %s; %lld probes, batch %lld, top-k %lld, bottom-k %lld\n",
              static_cast<long long>(b.step), b.checkpoint_path.c_str(), static_cast<long long>(s.latents),
              static_cast<long long>(s.batch), static_cast<long long>(s.top_k), static_cast<long long>(s.bottom_k));
  AnalysedBaseline a;
  a.step = b.step;
  a.top = eval::analyse_update_direction(in, eval::KeptSamples::top_k, s.top);
  a.bottom = eval::analyse_update_direction(in, eval::KeptSamples::bottom_k, s.bottom);
  a.protocol = protocol_json(b, s);

  std::printf("\nmean cosine(displacement, direction to nearest mode) and mean change of distance to that mode\n"
              "(data units; < 0 = closer), per bin of distance before the step in mode stds (%.2f):\n\n%s",
              mixture.std(), eval::format_direction_table(a.top, a.bottom).c_str());
  io::write_file_atomic(folder.file("directions.csv"), eval::direction_csv(a.top, a.bottom));
  folder.write_json("directions.json", nlohmann::json{{"protocol", a.protocol},
                                                      {"top_k", a.top.to_json()},
                                                      {"bottom_k", a.bottom.to_json()}});
  io::write_file_atomic(folder.file("directions.png"), eval::render_direction_chart_png(a.top, a.bottom));
  std::printf("\nwrote %s/directions.csv, directions.json, directions.png (top: mean cosine, bottom: mean distance\n"
              "change; per bin green = top-k, red = bottom-k)\n", folder.root().c_str());
  return a;
}

// The analyses at several points of training side by side: per step and bin, the mean cosine of
// top-k and bottom-k and their difference (> 0: top-k's step points more toward the modes).
void write_over_training(const train::RunFolder& folder, const std::vector<AnalysedBaseline>& points) {
  std::string md =
      "# Update directions over training\n\n"
      "Mean cosine between each probe sample's displacement and the direction to its nearest mode after one\n"
      "generator step on the top-k or the bottom-k of the batch, per bin of distance before the step (mode\n"
      "stds), at each analysed step of one baseline run (the same probe and update latents at every step).\n\n"
      "| step | bin (std) | samples | top-k cosine | bottom-k cosine | top-k - bottom-k |\n|---|---|---|---|---|---|\n";
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& p : points)
    for (size_t i = 0; i < p.top.bins.size(); ++i) {
      const eval::DirectionBin &t = p.top.bins[i], &b = p.bottom.bins[i];
      char line[256];
      if (t.count == 0)  // no probe sample this far from its mode: nothing to compare
        std::snprintf(line, sizeof line, "| %lld | %s | 0 | - | - | - |\n", static_cast<long long>(p.step),
                      eval::bin_label(t).c_str());
      else
        std::snprintf(line, sizeof line, "| %lld | %s | %lld | %.4f | %.4f | %+.4f |\n",
                      static_cast<long long>(p.step), eval::bin_label(t).c_str(), static_cast<long long>(t.count),
                      t.mean_cosine, b.mean_cosine, t.mean_cosine - b.mean_cosine);
      md += line;
      rows.push_back({{"step", p.step},
                      {"bin", eval::bin_label(t)},
                      {"count", t.count},
                      {"top_k_mean_cosine", t.mean_cosine},
                      {"bottom_k_mean_cosine", b.mean_cosine},
                      {"top_k_mean_distance_change", t.mean_distance_change},
                      {"bottom_k_mean_distance_change", b.mean_distance_change}});
    }
  io::write_file_atomic(folder.file("directions_over_training.md"), md);
  folder.write_json("directions_over_training.json",
                    nlohmann::json{{"protocol", points.back().protocol}, {"rows", rows}});
  std::printf("\n%s\nwrote %s/directions_over_training.md and .json\n", md.c_str(), folder.root().c_str());
}

// --at-steps: strictly increasing positive steps.
std::vector<int64_t> analysis_steps(const ArgParser& p) {
  const std::vector<int64_t> steps = p.int64_list("at-steps");
  for (size_t i = 0; i < steps.size(); ++i) {
    GANTRY_CHECK(steps[i] >= 1, "--at-steps: every step must be >= 1, got ", steps[i]);
    GANTRY_CHECK(i == 0 || steps[i] > steps[i - 1], "--at-steps: the steps must increase, got ", steps[i - 1],
                 " before ", steps[i]);
  }
  return steps;
}

}  // namespace

int mog_directions_command(const std::vector<std::string>& args) {
  ArgParser p = make_parser();
  if (!p.parse(args)) return 0;
  GANTRY_CHECK(!(p.given("checkpoint") && p.given("train-steps")), "--checkpoint and --train-steps are mutually exclusive");
  GANTRY_CHECK(!(p.given("checkpoint") && p.given("at-steps")),
               "--at-steps trains a baseline here; it does not apply to --checkpoint");
  GANTRY_CHECK(!(p.given("train-steps") && p.given("at-steps")),
               "--train-steps and --at-steps are mutually exclusive (the last of --at-steps is the training length)");
  GANTRY_CHECK(!(p.given("checkpoint") && p.flag_set("restart")),
               "--restart applies to a baseline trained here, not to --checkpoint");
  DirectionSettings s;
  s.latents = p.int64("latents");
  s.batch = p.int64("batch");
  GANTRY_CHECK(s.latents >= 1, "--latents: must be >= 1, got ", s.latents);
  GANTRY_CHECK(s.batch >= 1, "--batch: must be >= 1, got ", s.batch);
  for (const char* fraction : {"top", "bottom"})
    GANTRY_CHECK(p.real(fraction) > 0 && p.real(fraction) <= 1, "--", fraction, ": must be in (0, 1], got ",
                 p.real(fraction));
  s.top = p.real("top");
  s.bottom = p.real("bottom");
  s.top_k = eval::kept_count(s.batch, s.top);
  s.bottom_k = eval::kept_count(s.batch, s.bottom);
  const int64_t seed = p.int64("seed");
  GANTRY_CHECK(seed >= 0, "--seed: must be >= 0, got ", seed);
  s.seed = static_cast<uint64_t>(seed);
  if (p.given("modes")) s.modes = p.int64("modes");
  const std::vector<int64_t> at_steps = p.given("at-steps") ? analysis_steps(p) : std::vector<int64_t>{};
  const int threads = static_cast<int>(p.int64("threads"));
  GANTRY_CHECK(threads >= 1, "--threads: must be >= 1, got ", threads);
  const std::string out = p.str("out");
  train::RunFolder folder(out);  // fails on an unwritable --out before any training
  set_cpu_threads(threads);

  if (at_steps.empty()) {
    const std::string source = p.given("checkpoint") ? p.str("checkpoint") : train_baseline(p, out, p.int64("train-steps"), true);
    analyse_baseline(source, s, folder);
    return 0;
  }
  std::vector<AnalysedBaseline> points;
  for (size_t i = 0; i < at_steps.size(); ++i) {
    const std::string source = train_baseline(p, out, at_steps[i], i == 0);
    const train::RunFolder point((std::filesystem::path(out) / ("step_" + std::to_string(at_steps[i]))).string());
    points.push_back(analyse_baseline(source, s, point));
  }
  write_over_training(folder, points);
  return 0;
}

}  // namespace gantry::cli
