// gantry image train: one image-GAN run (a model preset on a dataset) into a run folder.
#include <algorithm>
#include <cstdio>

#include "engine/core/error.h"
#include "eval/inception_features.h"
#include "train/cli/arg_parser.h"
#include "train/cli/command_line.h"
#include "train/cli/image_commands.h"
#include "train/cli/method_options.h"
#include "train/image/image_embedder.h"
#include "train/image/image_experiment.h"
#include "train/recorded_run.h"
#include "train/run_folder_taking.h"
#include "train/stop_request.h"

namespace gantry::cli {

namespace {

std::string embedding_help() {
  std::string names;
  for (const auto& e : image::image_embedders())
    names += (names.empty() ? "" : " | ") + e.name + (e.available ? "" : " (not yet available)");
  return "data core-set embedding: " + names;
}

// --coreset-dim takes a count or "none" (no projection, the same as 0).
int64_t coreset_dim_of(const ArgParser& p) {
  const std::string v = p.str("coreset-dim");
  if (v == "none") return 0;
  return p.int64("coreset-dim");
}

ArgParser make_parser() {
  const image::ImageTrainConfig d;
  ArgParser p("gantry image train",
              "Trains an image GAN and writes config.json, log.jsonl, samples.png (fixed latents), samples/,\n"
              "losses.png (training curves), metrics.json and checkpoints into --out.\n"
              "--model sets the networks and the settings of the paper that proposed them (docs/image-gans.md);\n"
              "every option below overrides its preset value.");
  p.option("model", "M", "dcgan | msgan | wgan-gc | wgan-gp | sngan | sagan", d.model)
      .option("dataset", "D", "mnist | fashion-mnist | cifar10 (:train/:test) or an image folder", d.dataset)
      .option("data-cache", "DIR", "dataset cache (default: $GANTRY_DATA_DIR or ~/.cache/gantry/datasets)")
      .option("image-size", "S", "16, 32 or 64 (images are resized to it)", std::to_string(d.image_size))
      .flag("conditional", "class-conditional networks (sngan, sagan; needs a labelled dataset)")
      .option("latent-dim", "N", "latent size (0: the model's)", "0")
      .option("g-width", "N", "generator width (0: the model's)", "0")
      .option("d-width", "N", "critic width (0: the model's)", "0")
      .flag("flip", "random horizontal flips of the real images")
      .option("steps", "N", "generator steps", std::to_string(d.steps))
      .option("batch", "B", "batch size", std::to_string(d.batch))
      .option("seed", "S", "random seed (weights, data order, latents)", std::to_string(d.seed))
      .option("loss", "L", "non-saturating | hinge | wasserstein (preset)")
      .option("optimizer", "O", "adam | rmsprop (preset)")
      .option("g-lr", "LR", "generator learning rate (preset)")
      .option("d-lr", "LR", "critic learning rate (preset)")
      .option("beta1", "B1", "Adam beta1 (preset)")
      .option("beta2", "B2", "Adam beta2 (preset)")
      .option("lr-decay", "D", "none | linear (to 0 at the last step) (preset)")
      .option("d-steps", "N", "critic steps per generator step (preset)")
      .option("gp-weight", "W", "WGAN-GP gradient penalty weight, 0: off (preset)")
      .option("r1-gamma", "G", "R1 penalty on real images, 0: off", "0")
      .option("clip", "C", "clip critic weights to [-C, C] after each critic step, 0: off (preset)")
      .option("ms-weight", "W", "mode-seeking term weight (MSGAN), 0: off (preset)")
      .option("ema-decay", "D", "EMA of the generator's weights and BN statistics, in [0, 1); 0: off", "0")
      .option("ema-start", "N", "steps before the EMA starts averaging (it copies the weights until then)", "0")
      .flag("topk", "top-k: the generator loss keeps the k fakes the critic scores highest")
      .flag("bottomk", "bottom-k: keep the k lowest-scored fakes instead (ablation)")
      .flag("soft-topk",
            "soft top-k: keep every fake, weighted by its score so that the weights' effective\n"
            "sample size follows top-k's k schedule (ablation; generator loss only)")
      .option("topk-target", "T", "where top-k applies: g, d or gd", d.topk_target)
      .option("gamma", "G", "k decay factor, in (0, 1]", "0.99")
      .option("nu", "NU", "minimum k: a fraction of B (0.5) or a count (64)", d.nu)
      .option("decay-every", "N", "generator steps between k decays (0: once per epoch)", "0")
      .flag("coreset-prior", "core-set the latents: draw fz*B, keep B by greedy k-center")
      .option("fz", "F", "prior core-set factor", "4")
      .flag("coreset-data", "core-set the real batch: draw fx*B images, keep B by their cached embeddings")
      .option("fx", "F", "data core-set factor", "8")
      .option("coreset-embedding", "E", embedding_help(), d.coreset_embedding)
      .option("coreset-dim", "D", "random projection of the embeddings to D dims (0 or none: unprojected)",
              std::to_string(d.coreset_dim))
      .option("coreset-projection-seed", "S", "seed of the fixed Gaussian projection matrix",
              std::to_string(d.coreset_projection_seed))
      .option("embedding-cache", "DIR", "embedding cache folder (default: <data cache>/embeddings)")
      .option("eval-every", "N",
              "every N steps (and at the end), FID (or --eval-layer's feature distance) of --eval-count generated "
              "images against --eval-reference; 0: off",
              std::to_string(d.eval_every))
      .option("eval-layer", "L", "pool3 (FID, the full weights), mixed_7a or mixed_6e (FD_<layer>, not FID)",
              d.eval_layer)
      .option("eval-count", "N", "images generated per evaluation (fixed latents; EMA generator if kept)",
              std::to_string(d.eval_count))
      .option("eval-reference", "SOURCE", "reference images or statistics (default: the training dataset)")
      .option("eval-reference-count", "N", "reference images used, the first N (0: all)",
              std::to_string(d.eval_reference_count))
      .option("eval-weights", "PATH", "FID Inception weights (default: $GANTRY_FID_WEIGHTS or ~/.cache/gantry/fid/)")
      .flag("keep-best", "keep the checkpoint that scored best as best.safetensors (with best.json)")
      .option("coreset-weights", "PATH",
              "weights of the inception-* embeddings: the FID .pth/.safetensors, or a folder of per-layer .dat "
              "files for mixed_7a/mixed_6e (default: $GANTRY_FID_WEIGHTS or ~/.cache/gantry/fid/)")
      .option("sample-every", "N", "sample grid every N steps (0: at the end only)", std::to_string(d.sample_every))
      .option("checkpoint-every", "N", "checkpoint every N steps (and at the end)", std::to_string(d.checkpoint_every))
      .option("keep-checkpoints", "N", "step-numbered checkpoints kept in checkpoints/",
              std::to_string(d.keep_checkpoints))
      .option("log-every", "N", "log.jsonl record every N steps", std::to_string(d.log_every))
      .option("out", "DIR", "run folder (one that holds a run needs --resume or --restart)")
      .option("threads", "N", "CPU threads (the GEMMs and the engine's own kernels)", std::to_string(d.threads))
      .option("device", "D", "cpu, cuda or cuda:N", d.device)
      .flag("resume", "continue the run in --out from its checkpoint (bit-identical to an uninterrupted run)")
      .flag("restart", "discard the run already in --out and train afresh")
      .flag("quiet", "no progress output");
  return p;
}

void apply_given_options(const ArgParser& p, image::ImageTrainConfig& c) {
  p.assign_if_given("dataset", c.dataset);
  p.assign_if_given("image-size", c.image_size);
  if (p.flag_set("conditional")) c.conditional = true;
  p.assign_if_given("latent-dim", c.latent_dim);
  p.assign_if_given("g-width", c.g_width);
  p.assign_if_given("d-width", c.d_width);
  if (p.flag_set("flip")) c.random_flip = true;
  p.assign_if_given("steps", c.steps);
  p.assign_if_given("batch", c.batch);
  if (p.given("seed")) {
    const int64_t seed = p.int64("seed");
    GANTRY_CHECK(seed >= 0, "--seed: must be >= 0, got ", seed);
    c.seed = static_cast<uint64_t>(seed);
  }
  p.assign_if_given("loss", c.loss);
  p.assign_if_given("optimizer", c.optimizer);
  p.assign_if_given("g-lr", c.g_lr);
  p.assign_if_given("d-lr", c.d_lr);
  p.assign_if_given("beta1", c.beta1);
  p.assign_if_given("beta2", c.beta2);
  p.assign_if_given("lr-decay", c.lr_decay);
  p.assign_if_given("d-steps", c.d_steps);
  p.assign_if_given("gp-weight", c.gp_weight);
  p.assign_if_given("r1-gamma", c.r1_gamma);
  p.assign_if_given("clip", c.clip);
  p.assign_if_given("ms-weight", c.ms_weight);
  p.assign_if_given("ema-decay", c.ema_decay);
  p.assign_if_given("ema-start", c.ema_start);
  apply_method_options(p, c);
  p.assign_if_given("coreset-embedding", c.coreset_embedding);
  if (p.given("coreset-dim")) c.coreset_dim = coreset_dim_of(p);
  if (p.given("coreset-projection-seed")) {
    const int64_t seed = p.int64("coreset-projection-seed");
    GANTRY_CHECK(seed >= 0, "--coreset-projection-seed: must be >= 0, got ", seed);
    c.coreset_projection_seed = static_cast<uint64_t>(seed);
  }
  p.assign_if_given("sample-every", c.sample_every);
  p.assign_if_given("checkpoint-every", c.checkpoint_every);
  p.assign_if_given("keep-checkpoints", c.keep_checkpoints);
  p.assign_if_given("log-every", c.log_every);
  p.assign_if_given("eval-every", c.eval_every);
  p.assign_if_given("eval-layer", c.eval_layer);
  p.assign_if_given("eval-count", c.eval_count);
  p.assign_if_given("eval-reference", c.eval_reference);
  p.assign_if_given("eval-reference-count", c.eval_reference_count);
  if (p.flag_set("keep-best")) c.keep_best = true;
  if (p.given("threads")) c.threads = static_cast<int>(p.int64("threads"));
  p.assign_if_given("device", c.device);
  c.out = p.str("out");
}

// Options of a feature that is off would be stored without effect; they are refused instead.
void refuse_options_of_features_that_are_off(const ArgParser& p, const image::ImageTrainConfig& c) {
  refuse_method_options_that_are_off(p, c);
  for (const char* name : {"coreset-embedding", "coreset-dim", "coreset-projection-seed"})
    refuse_unless_feature_on(p, c.coreset_data, name, "--coreset-data");
  refuse_unless_feature_on(p, !c.coreset_data || c.coreset_dim > 0, "coreset-projection-seed",
                           "a projection (--coreset-dim above 0)");
  for (const char* name : {"eval-layer", "eval-count", "eval-reference", "eval-reference-count", "eval-weights"})
    refuse_unless_feature_on(p, c.eval_every > 0, name, "--eval-every");
  refuse_unless_feature_on(p, c.coreset_data && c.coreset_embedding.starts_with("inception-"), "coreset-weights",
                           "an Inception embedding (--coreset-data --coreset-embedding inception-*)");
  for (const char* name : {"beta1", "beta2"})
    refuse_unless_feature_on(p, c.optimizer == "adam", name, "--optimizer adam");
  refuse_unless_feature_on(p, c.ema_decay > 0, "ema-start", "--ema-decay");
}

image::ImageTrainConfig config_from(const ArgParser& p) {
  GANTRY_CHECK(!(p.flag_set("resume") && p.flag_set("restart")), "--resume and --restart are mutually exclusive");
  image::ImageTrainConfig c;
  if (p.flag_set("resume")) {
    c = image::ImageTrainConfig::from_json(
        train::recorded_run_to_resume(p.str("out"), image::image_run_kind()).config.config);
    GANTRY_CHECK(!p.given("model") || p.str("model") == c.model, "--resume: --model is ", p.str("model"),
                 " but the run in '", p.str("out"), "' trains ", c.model);
  } else {
    c = image::ImageTrainConfig::preset(p.str("model"));
  }
  apply_given_options(p, c);
  refuse_options_of_features_that_are_off(p, c);
  return c;
}

}  // namespace

image::ImageTrainConfig parse_image_train_config(const std::vector<std::string>& args) {
  ArgParser parser = make_parser();
  GANTRY_CHECK(parser.parse(args), "image train: expected training options, not --help");
  return config_from(parser);
}

int image_train_command(const std::vector<std::string>& args) {
  ArgParser parser = make_parser();
  if (!parser.parse(args)) return 0;
  const image::ImageTrainConfig config = config_from(parser);
  config.validate();  // every bad setting fails here, before any folder or training
  if (config.coreset_data && config.coreset_embedding.starts_with("inception-"))
    (void)eval::check_fid_weights_exist(
        parser.given("coreset-weights") ? parser.str("coreset-weights") : "",
        eval::parse_inception_layer(config.coreset_embedding.substr(std::string("inception-").size())),
        "--coreset-weights");
  image::ImageRunOptions options;
  options.resume = parser.flag_set("resume");
  options.restart = parser.flag_set("restart");
  options.progress = parser.flag_set("quiet") ? nullptr : stdout;
  if (parser.given("data-cache")) options.data_cache = parser.str("data-cache");
  if (parser.given("embedding-cache")) options.embedding_cache = parser.str("embedding-cache");
  if (parser.given("coreset-weights")) options.coreset_weights = parser.str("coreset-weights");
  if (parser.given("eval-weights")) options.eval_weights = parser.str("eval-weights");
  if (config.eval_every > 0)  // before any folder is made, like every other bad setting
    (void)eval::check_fid_weights_exist(
        options.eval_weights, eval::parse_inception_layer(config.eval_layer, "--eval-layer"), "--eval-weights");
  if (options.progress)
    std::printf("image train: %s on %s (%lldx%lld), %s, %lld steps, batch %lld, seed %llu -> %s\n",
                config.model.c_str(), config.dataset.c_str(), static_cast<long long>(config.image_size),
                static_cast<long long>(config.image_size), config.method_name().c_str(),
                static_cast<long long>(config.steps), static_cast<long long>(config.batch),
                static_cast<unsigned long long>(config.seed), config.out.c_str());
  const train::StopRequest stop;
  options.stop_requested = [&stop] { return stop.requested(); };
  const image::ImageRunResult r = image::run_image_training(config, options);
  if (r.stopped) {
    std::printf("image train: stopped by %s at step %lld/%lld; the checkpoint is saved. To resume, run:\n  %s\n",
                stop.signal_name(), static_cast<long long>(r.steps_done), static_cast<long long>(config.steps),
                resume_command_line({"image", "train"}, args).c_str());
    return stop.exit_status();
  }
  std::printf("%lld steps, %.2f steps/s\nrun folder: %s (samples.png, losses.png, metrics.json, log.jsonl)\n",
              static_cast<long long>(r.steps_done), r.steps_per_second, config.out.c_str());
  return 0;
}

}  // namespace gantry::cli
