// gantry mog train: one mixture-of-Gaussians GAN run into a run folder.
#include <algorithm>
#include <cstdio>

#include "engine/core/error.h"
#include "train/cli/arg_parser.h"
#include "train/cli/command_line.h"
#include "train/cli/method_options.h"
#include "train/cli/mog_commands.h"
#include "train/mog/mog_experiment.h"
#include "train/mog/mog_run_folder.h"
#include "train/stop_request.h"

namespace gantry::cli {

namespace {

ArgParser make_parser() {
  const mog::MogTrainConfig d;
  ArgParser p("gantry mog train",
              "Trains a GAN on a 2-D mixture of Gaussians (top-k paper Sec. 4 / Small-GAN Sec. 4.2) and writes\n"
              "config.json, log.jsonl, metrics.json, samples.png and checkpoint.safetensors into --out.");
  p.option("modes", "M", "number of modes, a perfect square (25, 64, 100)", std::to_string(d.modes))
      .option("steps", "N", "generator steps", std::to_string(d.steps))
      .option("batch", "B", "batch size", std::to_string(d.batch))
      .option("seed", "S", "random seed (models, data, latents, core-set)", std::to_string(d.seed))
      .option("loss", "L", "non-saturating | hinge | wasserstein", d.loss)
      .option("lr", "LR", "Adam learning rate (both networks)", "1e-4")
      .option("beta1", "B1", "Adam beta1", "0.5")
      .option("beta2", "B2", "Adam beta2", "0.999")
      .option("d-steps", "N", "critic steps per generator step", std::to_string(d.d_steps))
      .option("prior", "P", "latent prior: normal (N(0, 1)) or uniform (on [-1, 1]^d, Small-GAN's)", d.prior)
      .option("latent-dim", "D", "latent size", std::to_string(d.latent_dim))
      .option("hidden-layers", "N", "hidden layers of 256 units in both MLPs", std::to_string(d.hidden_layers))
      .option("grid-spacing", "S", "distance between neighbouring modes (std 0.05)", "2")
      .flag("topk", "top-k: the generator loss keeps the k fakes the critic scores highest")
      .flag("bottomk", "bottom-k: keep the k lowest-scored fakes instead (ablation)")
      .flag("soft-topk",
            "soft top-k: keep every fake, weighted by its score so that the weights' effective\n"
            "sample size follows top-k's k schedule (ablation; generator loss only)")
      .option("topk-target", "T", "where top-k applies: g (generator loss), d (critic fake term), gd (both)",
              d.topk_target)
      .option("gamma", "G", "k decay factor, in (0, 1]", "0.99")
      .option("nu", "NU", "minimum k: a fraction of B (0.75) or a count (192)", d.nu)
      .option("decay-every", "N", "generator steps between k decays", std::to_string(d.decay_every))
      .flag("coreset-prior", "core-set the latents: draw fz*B, keep B by greedy k-center")
      .option("fz", "F", "prior core-set factor, in [1, 1000] with fz*B <= 1048576", "4")
      .flag("coreset-data", "core-set the real batch: draw fx*B points, keep B by greedy k-center")
      .option("fx", "F", "data core-set factor, in [1, 1000] with fx*B <= 1048576", "8")
      .flag("anneal", "anneal the core-set factors linearly from f to 1 over the run")
      .option("eval-every", "N", "evaluate on --eval-samples every N steps (0: at the end only)", "0")
      .option("eval-samples", "N", "samples per evaluation", std::to_string(d.eval_samples))
      .option("log-every", "N", "log.jsonl record every N steps", std::to_string(d.log_every))
      .option("checkpoint-every", "N", "checkpoint every N steps (and at the end; 0: end only)",
              std::to_string(d.checkpoint_every))
      .option("out", "DIR", "run folder (created; must be writable; one that holds a run needs --resume or --restart)")
      .option("threads", "N", "CPU threads (the GEMMs and the engine's own kernels)", std::to_string(d.threads))
      .option("device", "D", "cpu, cuda or cuda:N (a run may resume on another device)", d.device)
      .flag("resume",
            "continue the run in --out from its checkpoint (bit-identical to an uninterrupted run); its recorded\n"
            "settings are the defaults, and only --steps (no fewer than the checkpoint's), --eval-every,\n"
            "--eval-samples, --log-every, --checkpoint-every, --threads and --device may differ")
      .flag("restart", "discard the run already in --out (config, checkpoint, log, metrics) and train afresh")
      .flag("quiet", "no progress output");
  return p;
}

// Sets every setting whose option was given on the command line, leaving the others as they are in
// `c` (the defaults for a new run, the recorded run's settings for --resume).
void apply_given_options(const ArgParser& p, mog::MogTrainConfig& c) {
  p.assign_if_given("modes", c.modes);
  p.assign_if_given("steps", c.steps);
  p.assign_if_given("batch", c.batch);
  if (p.given("seed")) {
    const int64_t seed = p.int64("seed");
    GANTRY_CHECK(seed >= 0, "--seed: must be >= 0, got ", seed);
    c.seed = static_cast<uint64_t>(seed);
  }
  p.assign_if_given("loss", c.loss);
  p.assign_if_given("lr", c.lr);
  p.assign_if_given("beta1", c.beta1);
  p.assign_if_given("beta2", c.beta2);
  p.assign_if_given("d-steps", c.d_steps);
  p.assign_if_given("prior", c.prior);
  p.assign_if_given("latent-dim", c.latent_dim);
  p.assign_if_given("hidden-layers", c.hidden_layers);
  p.assign_if_given("grid-spacing", c.grid_spacing);
  apply_method_options(p, c);
  if (p.flag_set("anneal")) c.anneal = true;
  p.assign_if_given("eval-every", c.eval_every);
  p.assign_if_given("eval-samples", c.eval_samples);
  p.assign_if_given("log-every", c.log_every);
  p.assign_if_given("checkpoint-every", c.checkpoint_every);
  if (p.given("threads")) c.threads = static_cast<int>(p.int64("threads"));
  p.assign_if_given("device", c.device);
  c.out = p.str("out");
}

// Options of a feature that is off would be stored without effect; they are refused instead.
void refuse_options_of_features_that_are_off(const ArgParser& p, const mog::MogTrainConfig& c) {
  refuse_method_options_that_are_off(p, c);
  refuse_unless_feature_on(p, c.coreset_prior || c.coreset_data, "anneal", "--coreset-prior or --coreset-data");
}

// A new run: the defaults with the given options. With --resume: the run recorded in --out with the
// given options; options that define the run must repeat its values (run_mog_training checks).
mog::MogTrainConfig config_from(const ArgParser& p) {
  GANTRY_CHECK(!(p.flag_set("resume") && p.flag_set("restart")), "--resume and --restart are mutually exclusive");
  mog::MogTrainConfig c =
      p.flag_set("resume") ? mog::recorded_run_to_resume(p.str("out")).config : mog::MogTrainConfig{};
  apply_given_options(p, c);
  refuse_options_of_features_that_are_off(p, c);
  return c;
}

}  // namespace

mog::MogTrainConfig parse_mog_train_config(const std::vector<std::string>& args) {
  ArgParser parser = make_parser();
  GANTRY_CHECK(parser.parse(args), "mog train: expected training options, not --help");
  return config_from(parser);
}

int mog_train_command(const std::vector<std::string>& args) {
  ArgParser parser = make_parser();
  if (!parser.parse(args)) return 0;
  const mog::MogTrainConfig config = config_from(parser);
  config.validate();  // every bad setting fails here, before any folder or training
  mog::MogRunOptions options;
  options.resume = parser.flag_set("resume");
  options.restart = parser.flag_set("restart");
  options.progress = parser.flag_set("quiet") ? nullptr : stdout;
  if (options.progress)
    std::printf("mog train: %lld modes, %s, %lld steps, batch %lld, seed %llu -> %s\n",
                static_cast<long long>(config.modes), config.method_name().c_str(),
                static_cast<long long>(config.steps), static_cast<long long>(config.batch),
                static_cast<unsigned long long>(config.seed), config.out.c_str());
  // SIGINT/SIGTERM: finish the step, checkpoint, and exit 128 + signal; a second signal kills at once.
  const train::StopRequest stop;
  options.stop_requested = [&stop] { return stop.requested(); };
  const mog::MogRunResult r = mog::run_mog_training(config, options);
  if (r.stopped) {
    std::printf("mog train: stopped by %s at step %lld/%lld; the checkpoint is saved. To resume, run:\n  %s\n",
                stop.signal_name(), static_cast<long long>(r.steps_done), static_cast<long long>(config.steps),
                resume_command_line({"mog", "train"}, args).c_str());
    return stop.exit_status();
  }
  const eval::MogMetrics& m = r.metrics;
  std::printf("high-quality %.2f%%  modes recovered %.2f%% (%lld/%lld)  within-mode std %.4f  %.1f steps/s\n",
              m.high_quality_percent, m.modes_recovered_percent, static_cast<long long>(m.modes_recovered),
              static_cast<long long>(m.num_modes), m.within_mode_std, r.steps_per_second);
  std::printf(
      "modes with any assigned sample (Small-GAN's count) %.2f%% (%lld/%lld); of the modes without a "
      "high-quality sample, %lld of %lld lie on the outer ring\n",
      m.modes_assigned_percent, static_cast<long long>(m.modes_assigned), static_cast<long long>(m.num_modes),
      static_cast<long long>(m.missed_on_outer_ring), static_cast<long long>(m.num_modes - m.modes_recovered));
  std::printf("run folder: %s (metrics.json, samples.png, log.jsonl)\n", config.out.c_str());
  return 0;
}

}  // namespace gantry::cli
