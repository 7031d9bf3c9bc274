#include "train/mog/mog_config.h"

#include <cmath>

#include "engine/core/device.h"
#include "engine/core/error.h"
#include "engine/io/json_integer.h"
#include "train/data/mixture_of_gaussians.h"
#include "train/losses.h"
#include "train/topk_schedule.h"
#include "train/update_policy.h"

namespace gantry::mog {

const char* batch_selection_name(BatchSelection s) {
  switch (s) {
    case BatchSelection::full: return "full";
    case BatchSelection::top_k: return "top-k";
    case BatchSelection::bottom_k: return "bottom-k";
  }
  return "?";
}

BatchSelection parse_batch_selection(const std::string& s) {
  if (s == "full") return BatchSelection::full;
  if (s == "top-k") return BatchSelection::top_k;
  if (s == "bottom-k") return BatchSelection::bottom_k;
  GANTRY_FAIL("config: unknown batch selection '", s, "' (expected full, top-k or bottom-k)");
}

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
  if (selection != BatchSelection::full) {
    train::parse_selection_target(topk_target);
    GANTRY_CHECK(gamma > 0 && gamma <= 1, "--gamma: must be in (0, 1], got ", gamma);
    GANTRY_CHECK(decay_every >= 1, "--decay-every: must be >= 1, got ", decay_every);
    try {
      nu_count();
    } catch (const Error& e) {
      GANTRY_FAIL("--nu: ", e.what());
    }
  }
  GANTRY_CHECK(!coreset_prior || fz >= 1, "--fz: the prior core-set factor must be >= 1, got ", fz);
  GANTRY_CHECK(!coreset_data || fx >= 1, "--fx: the data core-set factor must be >= 1, got ", fx);
  GANTRY_CHECK(eval_every >= 0, "--eval-every: must be >= 0, got ", eval_every);
  GANTRY_CHECK(eval_samples >= 1, "--eval-samples: must be >= 1, got ", eval_samples);
  GANTRY_CHECK(log_every >= 0, "--log-every: must be >= 0, got ", log_every);
  GANTRY_CHECK(checkpoint_every >= 0, "--checkpoint-every: must be >= 0, got ", checkpoint_every);
  GANTRY_CHECK(threads >= 1 && threads <= 256, "--threads: must be in [1, 256], got ", threads);
  parse_available_device(device);
  GANTRY_CHECK(!out.empty(), "--out: a run folder is required");
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

std::string MogTrainConfig::method_name() const {
  std::string name;
  if (selection != BatchSelection::full) name = batch_selection_name(selection);
  if (coreset_prior || coreset_data) {
    if (!name.empty()) name += " + ";
    name += "core-set";
    if (!(coreset_prior && coreset_data)) name += coreset_prior ? " (prior)" : " (data)";
  }
  return name.empty() ? "baseline" : name;
}

nlohmann::json MogTrainConfig::identity_json() const {
  return nlohmann::json{{"modes", modes},
                        {"batch", batch},
                        {"seed", seed},
                        {"loss", loss},
                        {"lr", lr},
                        {"beta1", beta1},
                        {"beta2", beta2},
                        {"d_steps", d_steps},
                        {"selection", batch_selection_name(selection)},
                        {"topk_target", topk_target},
                        {"gamma", gamma},
                        {"nu", nu},
                        {"decay_every", decay_every},
                        {"coreset_prior", coreset_prior},
                        {"fz", fz},
                        {"coreset_data", coreset_data},
                        {"fx", fx},
                        {"anneal", anneal}};
}

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

namespace {

// An integer field: a JSON integer that fits (nlohmann's get<> casts floats, undefined behaviour out
// of range, and wraps values outside the type).
template <typename Int>
Int integer_field(const nlohmann::json& j, const char* key) {
  return io::require_json_integer<Int>(j.at(key), std::string("config: '") + key + "'");
}

template <typename Int>
Int integer_field_or(const nlohmann::json& j, const char* key, Int fallback) {
  return j.contains(key) ? integer_field<Int>(j, key) : fallback;
}

}  // namespace

MogTrainConfig MogTrainConfig::from_json(const nlohmann::json& j) {
  MogTrainConfig c;
  try {
    c.modes = integer_field<int64_t>(j, "modes");
    c.batch = integer_field<int64_t>(j, "batch");
    c.seed = integer_field<uint64_t>(j, "seed");
    c.loss = j.at("loss").get<std::string>();
    c.lr = j.at("lr").get<double>();
    c.beta1 = j.at("beta1").get<double>();
    c.beta2 = j.at("beta2").get<double>();
    c.d_steps = integer_field<int64_t>(j, "d_steps");
    c.selection = parse_batch_selection(j.at("selection").get<std::string>());
    c.topk_target = j.at("topk_target").get<std::string>();
    c.gamma = j.at("gamma").get<double>();
    c.nu = j.at("nu").get<std::string>();
    c.decay_every = integer_field<int64_t>(j, "decay_every");
    c.coreset_prior = j.at("coreset_prior").get<bool>();
    c.fz = j.at("fz").get<double>();
    c.coreset_data = j.at("coreset_data").get<bool>();
    c.fx = j.at("fx").get<double>();
    c.anneal = j.at("anneal").get<bool>();
    c.steps = integer_field<int64_t>(j, "steps");
    c.eval_every = integer_field_or(j, "eval_every", c.eval_every);
    c.eval_samples = integer_field_or(j, "eval_samples", c.eval_samples);
    c.log_every = integer_field_or(j, "log_every", c.log_every);
    c.checkpoint_every = integer_field_or(j, "checkpoint_every", c.checkpoint_every);
    c.threads = integer_field_or(j, "threads", c.threads);
    c.device = j.value("device", c.device);
    c.out = j.value("out", c.out);
  } catch (const nlohmann::json::exception& e) {
    GANTRY_FAIL("config: malformed MoG run config: ", e.what());
  }
  return c;
}

}  // namespace gantry::mog
