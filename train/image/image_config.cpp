#include "train/image/image_config.h"

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"
#include "engine/io/digest.h"
#include "engine/io/json_integer.h"
#include "eval/inception_features.h"
#include "models/image_gan_models.h"
#include "train/image/image_embedder.h"
#include "train/losses.h"
#include "train/method_settings.h"
#include "train/mog/mog_config.h"
#include "train/samplers.h"
#include "train/topk_schedule.h"

namespace gantry::image {

ImageTrainConfig ImageTrainConfig::preset(const std::string& model) {
  const auto& names = models::image_gan_model_names();
  if (std::find(names.begin(), names.end(), model) == names.end()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    GANTRY_FAIL("--model: unknown model '", model, "' (expected one of ", list, ")");
  }
  ImageTrainConfig c;
  c.model = model;
  if (model == "wgan-gc") {
    c.loss = "wasserstein";
    c.optimizer = "rmsprop";
    c.g_lr = c.d_lr = 5e-5;
    c.clip = 0.01;
    c.d_steps = 5;
  } else if (model == "wgan-gp") {
    c.loss = "wasserstein";
    c.g_lr = c.d_lr = 1e-4;
    c.beta1 = 0.0;
    c.beta2 = 0.9;
    c.gp_weight = 10;
    c.d_steps = 5;
  } else if (model == "msgan") {
    c.ms_weight = 1.0;
  } else if (model == "sngan") {
    c.loss = "hinge";
    c.beta1 = 0.0;
    c.beta2 = 0.9;
    c.d_steps = 5;
    c.lr_decay = "linear";
  } else if (model == "sagan") {
    c.loss = "hinge";
    c.g_lr = 1e-4;
    c.d_lr = 4e-4;
    c.beta1 = 0.0;
    c.beta2 = 0.9;
  }
  return c;
}

double ImageTrainConfig::nu_count() const { return train::parse_nu(nu, batch); }

void ImageTrainConfig::validate() const {
  preset(model);  // names the valid models
  GANTRY_CHECK(!dataset.empty(), "--dataset: a dataset name or image folder is required");
  GANTRY_CHECK(image_size == 16 || image_size == 32 || image_size == 64, "--image-size: must be 16, 32 or 64, got ",
               image_size);
  GANTRY_CHECK(latent_dim >= 0, "--latent-dim: must be >= 1 (0: the model's own), got ", latent_dim);
  GANTRY_CHECK(g_width >= 0, "--g-width: must be >= 1 (0: the model's own), got ", g_width);
  GANTRY_CHECK(d_width >= 0, "--d-width: must be >= 1 (0: the model's own), got ", d_width);
  train::parse_gan_loss(loss);
  GANTRY_CHECK(optimizer == "adam" || optimizer == "rmsprop", "--optimizer: expected adam or rmsprop, got '",
               optimizer, "'");
  GANTRY_CHECK(std::isfinite(g_lr) && g_lr > 0, "--g-lr: must be positive, got ", g_lr);
  GANTRY_CHECK(std::isfinite(d_lr) && d_lr > 0, "--d-lr: must be positive, got ", d_lr);
  GANTRY_CHECK(beta1 >= 0 && beta1 < 1, "--beta1: must be in [0, 1), got ", beta1);
  GANTRY_CHECK(beta2 >= 0 && beta2 < 1, "--beta2: must be in [0, 1), got ", beta2);
  GANTRY_CHECK(lr_decay == "none" || lr_decay == "linear", "--lr-decay: expected none or linear, got '", lr_decay,
               "'");
  GANTRY_CHECK(d_steps >= 1, "--d-steps: must be >= 1, got ", d_steps);
  GANTRY_CHECK(gp_weight >= 0 && std::isfinite(gp_weight), "--gp-weight: must be >= 0, got ", gp_weight);
  GANTRY_CHECK(r1_gamma >= 0 && std::isfinite(r1_gamma), "--r1-gamma: must be >= 0, got ", r1_gamma);
  GANTRY_CHECK(clip >= 0 && std::isfinite(clip), "--clip: must be >= 0, got ", clip);
  GANTRY_CHECK(ms_weight >= 0 && std::isfinite(ms_weight), "--ms-weight: must be >= 0, got ", ms_weight);
  GANTRY_CHECK(ema_decay >= 0 && ema_decay < 1, "--ema-decay: must be in [0, 1), got ", ema_decay);
  GANTRY_CHECK(ema_start >= 0, "--ema-start: must be >= 0, got ", ema_start);
  GANTRY_CHECK(batch >= 2, "--batch: must be >= 2, got ", batch);
  GANTRY_CHECK(steps >= 1, "--steps: must be >= 1, got ", steps);
  train::validate_method_settings(*this, /*min_decay_every=*/0);
  if (coreset_data) {
    check_image_embedder_name(coreset_embedding, "--coreset-embedding");
    GANTRY_CHECK(coreset_dim >= 0 && coreset_dim <= kMaxCoresetDim, "--coreset-dim: must be in [0, ", kMaxCoresetDim,
                 "] (0 or none: no projection), got ", coreset_dim);
  }
  GANTRY_CHECK(eval_every >= 0, "--eval-every: must be >= 0, got ", eval_every);
  if (eval_every > 0) {
    eval::parse_inception_layer(eval_layer, "--eval-layer");
    GANTRY_CHECK(eval_count >= 2, "--eval-count: must be >= 2 (the covariance needs two images), got ", eval_count);
    GANTRY_CHECK(eval_reference_count >= 0, "--eval-reference-count: must be >= 0, got ", eval_reference_count);
  }
  GANTRY_CHECK(!keep_best || eval_every > 0, "--keep-best needs --eval-every (the metric it keeps the best of)");
  GANTRY_CHECK(sample_every >= 0, "--sample-every: must be >= 0, got ", sample_every);
  GANTRY_CHECK(checkpoint_every >= 0, "--checkpoint-every: must be >= 0, got ", checkpoint_every);
  GANTRY_CHECK(keep_checkpoints >= 0, "--keep-checkpoints: must be >= 0, got ", keep_checkpoints);
  GANTRY_CHECK(log_every >= 0, "--log-every: must be >= 0, got ", log_every);
  GANTRY_CHECK(threads >= 1 && threads <= 256, "--threads: must be in [1, 256], got ", threads);
  mog::parse_available_device(device);
  GANTRY_CHECK(!out.empty(), "--out: a run folder is required");
}

std::string ImageTrainConfig::method_name() const { return train::method_name_of(*this); }

nlohmann::json ImageTrainConfig::identity_json() const {
  nlohmann::json j{{"model", model},
                   {"dataset", dataset},
                   {"image_size", image_size},
                   {"conditional", conditional},
                   {"latent_dim", latent_dim},
                   {"g_width", g_width},
                   {"d_width", d_width},
                   {"random_flip", random_flip},
                   {"loss", loss},
                   {"optimizer", optimizer},
                   {"g_lr", g_lr},
                   {"d_lr", d_lr},
                   {"lr_decay", lr_decay},
                   {"d_steps", d_steps},
                   {"gp_weight", gp_weight},
                   {"r1_gamma", r1_gamma},
                   {"clip", clip},
                   {"ms_weight", ms_weight},
                   {"ema_decay", ema_decay},
                   {"batch", batch},
                   {"seed", seed}};
  train::add_method_identity(*this, j);
  if (coreset_data) {
    j["coreset_embedding"] = coreset_embedding;
    j["coreset_dim"] = coreset_dim;
    if (coreset_dim > 0) j["coreset_projection_seed"] = coreset_projection_seed;
  }
  // The settings of a feature that is off do not change the run, so they are not part of it.
  if (optimizer == "adam") {
    j["beta1"] = beta1;
    j["beta2"] = beta2;
  }
  if (lr_decay != "none") j["steps"] = steps;  // the decay's length is part of the run
  if (ema_decay > 0) j["ema_start"] = ema_start;
  return j;
}

std::string ImageTrainConfig::identity_hash() const { return io::fnv1a64_hex(identity_json().dump()); }

nlohmann::json ImageTrainConfig::to_json() const {
  nlohmann::json j = identity_json();
  j["kind"] = "image";
  j["beta1"] = beta1;
  j["beta2"] = beta2;
  j["ema_start"] = ema_start;
  j["steps"] = steps;
  j["method"] = method_name();
  if (eval_every > 0)
    j["eval"] = {{"every", eval_every},
                 {"layer", eval_layer},
                 {"count", eval_count},
                 {"reference", eval_reference},
                 {"reference_count", eval_reference_count},
                 {"keep_best", keep_best}};
  j["sample_every"] = sample_every;
  j["checkpoint_every"] = checkpoint_every;
  j["keep_checkpoints"] = keep_checkpoints;
  j["log_every"] = log_every;
  j["threads"] = threads;
  j["device"] = device;
  j["out"] = out;
  return j;
}

ImageTrainConfig ImageTrainConfig::from_json(const nlohmann::json& j) {
  ImageTrainConfig c;
  try {
    GANTRY_CHECK(j.value("kind", std::string()) == "image", "config: not an image-GAN run configuration (kind ",
                 j.contains("kind") ? j.at("kind").dump() : std::string("missing"), ")");
    c.model = j.at("model").get<std::string>();
    c.dataset = j.at("dataset").get<std::string>();
    c.image_size = io::config_integer<int64_t>(j, "image_size");
    c.conditional = j.at("conditional").get<bool>();
    c.latent_dim = io::config_integer<int64_t>(j, "latent_dim");
    c.g_width = io::config_integer<int64_t>(j, "g_width");
    c.d_width = io::config_integer<int64_t>(j, "d_width");
    c.random_flip = j.at("random_flip").get<bool>();
    c.loss = j.at("loss").get<std::string>();
    c.optimizer = j.at("optimizer").get<std::string>();
    c.g_lr = j.at("g_lr").get<double>();
    c.d_lr = j.at("d_lr").get<double>();
    c.beta1 = j.value("beta1", c.beta1);
    c.beta2 = j.value("beta2", c.beta2);
    c.lr_decay = j.at("lr_decay").get<std::string>();
    c.d_steps = io::config_integer<int64_t>(j, "d_steps");
    c.gp_weight = j.at("gp_weight").get<double>();
    c.r1_gamma = j.at("r1_gamma").get<double>();
    c.clip = j.at("clip").get<double>();
    c.ms_weight = j.at("ms_weight").get<double>();
    c.ema_decay = j.at("ema_decay").get<double>();
    c.ema_start = io::config_integer_or<int64_t>(j, "ema_start", c.ema_start);
    c.batch = io::config_integer<int64_t>(j, "batch");
    c.seed = io::config_integer<uint64_t>(j, "seed");
    c.selection = train::parse_batch_selection(j.at("selection").get<std::string>());
    c.coreset_prior = j.at("coreset_prior").get<bool>();
    c.coreset_data = j.at("coreset_data").get<bool>();
    c.topk_target = j.value("topk_target", c.topk_target);
    c.gamma = j.value("gamma", c.gamma);
    c.nu = j.value("nu", c.nu);
    c.decay_every = io::config_integer_or(j, "decay_every", c.decay_every);
    c.fz = j.value("fz", c.fz);
    c.fx = j.value("fx", c.fx);
    // Runs recorded before the embedding options measured the raw pixels, unprojected.
    c.coreset_embedding = j.value("coreset_embedding", c.coreset_embedding);
    c.coreset_dim = io::config_integer_or<int64_t>(j, "coreset_dim", c.coreset_data ? 0 : c.coreset_dim);
    c.coreset_projection_seed =
        io::config_integer_or<uint64_t>(j, "coreset_projection_seed", c.coreset_projection_seed);
    c.steps = io::config_integer<int64_t>(j, "steps");
    if (j.contains("eval")) {
      const nlohmann::json& e = j.at("eval");
      c.eval_every = io::config_integer<int64_t>(e, "every");
      c.eval_layer = e.value("layer", c.eval_layer);
      c.eval_count = io::config_integer_or(e, "count", c.eval_count);
      c.eval_reference = e.value("reference", c.eval_reference);
      c.eval_reference_count = io::config_integer_or(e, "reference_count", c.eval_reference_count);
      c.keep_best = e.value("keep_best", c.keep_best);
    }
    c.sample_every = io::config_integer_or(j, "sample_every", c.sample_every);
    c.checkpoint_every = io::config_integer_or(j, "checkpoint_every", c.checkpoint_every);
    c.keep_checkpoints = io::config_integer_or(j, "keep_checkpoints", c.keep_checkpoints);
    c.log_every = io::config_integer_or(j, "log_every", c.log_every);
    c.threads = io::config_integer_or(j, "threads", c.threads);
    c.device = j.value("device", c.device);
    c.out = j.value("out", c.out);
  } catch (const nlohmann::json::exception& e) {
    GANTRY_FAIL("config: malformed image run config: ", e.what());
  }
  return c;
}

namespace {

class ImageRunKind final : public train::RunKind {
 public:
  std::vector<std::string> run_files() const override {
    return {kImageConfigFile,        kImageCheckpointFile, kImageMetricsFile,        kImageLogFile,
            kImageSamplesFile,       kImageEmaSamplesFile, kImageLossesFile,         kImageSamplesFolder,
            kImageCheckpointsFolder, kImageEvalLogFile,    kImageBestCheckpointFile, kImageBestFile};
  }
  std::string checkpoint_file() const override { return kImageCheckpointFile; }
  std::string config_file() const override { return kImageConfigFile; }
  train::RecordedConfig parse(const nlohmann::json& config) const override {
    return recorded_config(ImageTrainConfig::from_json(config));
  }
  std::string option_of(const std::string& key) const override {
    return key == "selection" ? "--topk/--bottomk" : RunKind::option_of(key);
  }
  std::string resumable_options() const override {
    return "--steps (unless --lr-decay is linear), --sample-every, --checkpoint-every, --keep-checkpoints, "
           "--log-every, --threads and --device";
  }
};

}  // namespace

const train::RunKind& image_run_kind() {
  static const ImageRunKind kind;
  return kind;
}

train::RecordedConfig recorded_config(const ImageTrainConfig& c) {
  return {c.to_json(), c.identity_json(), c.identity_hash(), c.steps};
}

}  // namespace gantry::image
