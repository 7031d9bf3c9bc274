#include "train/mog/mog_config.h"

#include <algorithm>
#include <cmath>

#include "engine/core/device.h"
#include "engine/core/error.h"
#include "engine/io/digest.h"
#include "engine/io/json_integer.h"
#include "train/data/mixture_of_gaussians.h"
#include "train/losses.h"
#include "train/method_settings.h"
#include "train/mog/mog_run_kind.h"
#include "train/topk_schedule.h"
#include "train/update_policy.h"

namespace gantry::mog {

double MogTrainConfig::nu_count() const { return train::parse_nu(nu, batch); }

void MogTrainConfig::validate() const {
  GANTRY_CHECK(data::perfect_square_side(modes) > 0, "--modes: the number of modes must be a perfect square >= 1 ",
               "(e.g. 25, 64, 100), got ", modes);
  GANTRY_CHECK(steps >= 1, "--steps: must be >= 1, got ", steps);
  GANTRY_CHECK(batch >= 1, "--batch: must be >= 1, got ", batch);
  train::parse_gan_loss(loss);
  GANTRY_CHECK(std::isfinite(lr) && lr > 0, "--lr: must be positive, got ", lr);
  GANTRY_CHECK(beta1 >= 0 && beta1 < 1, "--beta1: must be in [0, 1), got ", beta1);
  GANTRY_CHECK(beta2 >= 0 && beta2 < 1, "--beta2: must be in [0, 1), got ", beta2);
  GANTRY_CHECK(d_steps >= 1, "--d-steps: must be >= 1, got ", d_steps);
  train::parse_latent_prior(prior);
  GANTRY_CHECK(latent_dim >= 1 && latent_dim <= kMaxLatentDim, "--latent-dim: must be in [1, ", kMaxLatentDim,
               "], got ", latent_dim);
  GANTRY_CHECK(hidden_layers >= 1 && hidden_layers <= kMaxHiddenLayers, "--hidden-layers: must be in [1, ",
               kMaxHiddenLayers, "], got ", hidden_layers);
  // Modes closer than twice the high-quality radius (4 std each) would share high-quality samples.
  const double min_spacing = 8.0 * data::MixtureOfGaussians::kDefaultStd;
  GANTRY_CHECK(std::isfinite(grid_spacing) && grid_spacing > min_spacing && grid_spacing <= 1e4,
               "--grid-spacing: must be above ", min_spacing, " (8 std, so that the 4-std high-quality balls of ",
               "neighbouring modes do not overlap) and at most 1e4, got ", grid_spacing);
  train::validate_method_settings(*this, /*min_decay_every=*/1);
  GANTRY_CHECK(eval_every >= 0, "--eval-every: must be >= 0, got ", eval_every);
  GANTRY_CHECK(eval_samples >= 1, "--eval-samples: must be >= 1, got ", eval_samples);
  GANTRY_CHECK(log_every >= 0, "--log-every: must be >= 0, got ", log_every);
  GANTRY_CHECK(checkpoint_every >= 0, "--checkpoint-every: must be >= 0, got ", checkpoint_every);
  GANTRY_CHECK(threads >= 1 && threads <= 256, "--threads: must be in [1, 256], got ", threads);
  parse_available_device(device);
  GANTRY_CHECK(!out.empty(), "--out: a run folder is required");
}

std::optional<train::IdentityDifference> identity_difference(const MogTrainConfig& first,
                                                             const MogTrainConfig& second) {
  return train::identity_difference(first.identity_json(), second.identity_json(), mog_run_kind());
}

Device parse_available_device(const std::string& text) {
  Device dev;
  try {
    dev = Device::parse(text);
  } catch (const Error& e) {
    GANTRY_FAIL("--device: ", e.what());
  }
  if (dev.is_cuda()) {
    const int count = cuda_device_count();
    GANTRY_CHECK(dev.index < count, "--device ", text, ": ",
                 count == 0 ? "no CUDA device is available (a CPU-only build, or no GPU/driver on this machine)"
                            : "only " + std::to_string(count) + " CUDA device(s) are available");
  }
  return dev;
}

models::MogMlpOptions MogTrainConfig::arch() const {
  models::MogMlpOptions a;
  a.latent_dim = latent_dim;
  a.hidden_layers = hidden_layers;
  return a;
}

data::MixtureOfGaussians MogTrainConfig::mixture() const { return data::MixtureOfGaussians(modes, grid_spacing); }

train::LatentPrior MogTrainConfig::latent_prior() const { return train::parse_latent_prior(prior); }

std::string MogTrainConfig::method_name() const { return train::method_name_of(*this); }

nlohmann::json MogTrainConfig::identity_json() const {
  nlohmann::json j{{"modes", modes}, {"batch", batch}, {"seed", seed},   {"loss", loss},
                   {"lr", lr},       {"beta1", beta1}, {"beta2", beta2}, {"d_steps", d_steps}};
  // The protocol variants join the identity only when they differ from the pinned protocol, so the
  // identities (and run ids) of runs made before these options existed are unchanged.
  const MogTrainConfig pinned;
  if (prior != pinned.prior) j["prior"] = prior;
  if (latent_dim != pinned.latent_dim) j["latent_dim"] = latent_dim;
  if (hidden_layers != pinned.hidden_layers) j["hidden_layers"] = hidden_layers;
  if (grid_spacing != pinned.grid_spacing) j["grid_spacing"] = grid_spacing;
  train::add_method_identity(*this, j);
  // The settings of a feature that is off do not change the run, so they are not part of it.
  if (coreset_prior || coreset_data) j["anneal"] = anneal;
  return j;
}

std::string MogTrainConfig::identity_hash() const { return io::fnv1a64_hex(identity_json().dump()); }

nlohmann::json MogTrainConfig::to_json() const {
  nlohmann::json j = identity_json();
  j["steps"] = steps;
  j["method"] = method_name();
  j["eval_every"] = eval_every;
  j["eval_samples"] = eval_samples;
  j["log_every"] = log_every;
  j["checkpoint_every"] = checkpoint_every;
  j["threads"] = threads;
  j["device"] = device;
  j["out"] = out;
  return j;
}

MogTrainConfig MogTrainConfig::from_json(const nlohmann::json& j) {
  MogTrainConfig c;
  try {
    c.modes = io::config_integer<int64_t>(j, "modes");
    c.batch = io::config_integer<int64_t>(j, "batch");
    c.seed = io::config_integer<uint64_t>(j, "seed");
    c.loss = j.at("loss").get<std::string>();
    c.lr = j.at("lr").get<double>();
    c.beta1 = j.at("beta1").get<double>();
    c.beta2 = j.at("beta2").get<double>();
    c.d_steps = io::config_integer<int64_t>(j, "d_steps");
    c.prior = j.value("prior", c.prior);
    c.latent_dim = io::config_integer_or(j, "latent_dim", c.latent_dim);
    c.hidden_layers = io::config_integer_or(j, "hidden_layers", c.hidden_layers);
    c.grid_spacing = j.value("grid_spacing", c.grid_spacing);
    c.selection = parse_batch_selection(j.at("selection").get<std::string>());
    c.coreset_prior = j.at("coreset_prior").get<bool>();
    c.coreset_data = j.at("coreset_data").get<bool>();
    // Settings of features that are off may be absent (see identity_json); the defaults stand in.
    c.topk_target = j.value("topk_target", c.topk_target);
    c.gamma = j.value("gamma", c.gamma);
    c.nu = j.value("nu", c.nu);
    c.decay_every = io::config_integer_or(j, "decay_every", c.decay_every);
    c.fz = j.value("fz", c.fz);
    c.fx = j.value("fx", c.fx);
    c.anneal = j.value("anneal", c.anneal);
    c.steps = io::config_integer<int64_t>(j, "steps");
    c.eval_every = io::config_integer_or(j, "eval_every", c.eval_every);
    c.eval_samples = io::config_integer_or(j, "eval_samples", c.eval_samples);
    c.log_every = io::config_integer_or(j, "log_every", c.log_every);
    c.checkpoint_every = io::config_integer_or(j, "checkpoint_every", c.checkpoint_every);
    c.threads = io::config_integer_or(j, "threads", c.threads);
    c.device = j.value("device", c.device);
    c.out = j.value("out", c.out);
  } catch (const nlohmann::json::exception& e) {
    GANTRY_FAIL("config: malformed MoG run config: ", e.what());
  }
  return c;
}

}  // namespace gantry::mog
