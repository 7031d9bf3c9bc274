#pragma once
// The settings of the papers' methods — top-k / bottom-k (top-k paper) and core-sets (Small-GAN) —
// as every kind of run configuration spells them (members selection, topk_target, gamma, nu,
// decay_every, coreset_prior, fz, coreset_data, fx, batch and nu_count()): their validation, their
// part of a run's identity and the method's name, written once for all configurations.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/core/error.h"
#include "train/samplers.h"
#include "train/topk_schedule.h"
#include "train/update_policy.h"

namespace gantry::train {

// Throws naming the option for an invalid method setting. `min_decay_every` is 1, or 0 where 0
// means "once per epoch".
template <typename Config>
void validate_method_settings(const Config& c, int64_t min_decay_every) {
  if (c.selection != BatchSelection::full) {
    parse_selection_target(c.topk_target);
    GANTRY_CHECK(c.gamma > 0 && c.gamma <= 1, "--gamma: must be in (0, 1], got ", c.gamma);
    GANTRY_CHECK(c.decay_every >= min_decay_every, "--decay-every: must be >= ", min_decay_every,
                 min_decay_every == 0 ? " (0: once per epoch)" : "", ", got ", c.decay_every);
    try {
      c.nu_count();
    } catch (const Error& e) {
      GANTRY_FAIL("--nu: ", e.what());
    }
    GANTRY_CHECK(c.selection != BatchSelection::soft_top_k ||
                     parse_selection_target(c.topk_target) == SelectionTarget::generator,
                 "--topk-target: soft top-k weights the generator loss only (g), got '", c.topk_target, "'");
  }
  if (c.coreset_prior) check_coreset_factor("--fz", "prior", c.fz, c.batch);
  if (c.coreset_data) check_coreset_factor("--fx", "data", c.fx, c.batch);
}

// Adds the method's settings to a run's identity; the settings of a method that is off are left out,
// as they do not change the run.
template <typename Config>
void add_method_identity(const Config& c, nlohmann::json& j) {
  j["selection"] = batch_selection_name(c.selection);
  j["coreset_prior"] = c.coreset_prior;
  j["coreset_data"] = c.coreset_data;
  if (c.selection != BatchSelection::full) {
    j["topk_target"] = c.topk_target;
    j["gamma"] = c.gamma;
    j["nu"] = c.nu;
    j["decay_every"] = c.decay_every;
  }
  if (c.coreset_prior) j["fz"] = c.fz;
  if (c.coreset_data) j["fx"] = c.fx;
}

// The generator-update policy of the run's method: the full batch, or top-k / bottom-k / soft top-k on
// the k schedule (decay every `decay_every` generator steps).
template <typename Config>
std::unique_ptr<GeneratorUpdatePolicy> make_update_policy(const Config& c, int64_t decay_every) {
  if (c.selection == BatchSelection::full) return std::make_unique<FullBatchPolicy>();
  TopKSchedule schedule(c.batch, c.gamma, c.nu_count(), decay_every);
  if (c.selection == BatchSelection::soft_top_k) return std::make_unique<SoftTopKPolicy>(schedule);
  return std::make_unique<TopKPolicy>(schedule, parse_selection_target(c.topk_target),
                                      c.selection == BatchSelection::top_k);
}

// "baseline", "top-k", "bottom-k", "core-set", "core-set (prior)", "top-k + core-set (data)", ...
template <typename Config>
std::string method_name_of(const Config& c) {
  std::string name;
  if (c.selection != BatchSelection::full) name = batch_selection_name(c.selection);
  if (c.coreset_prior || c.coreset_data) {
    if (!name.empty()) name += " + ";
    name += "core-set";
    if (!(c.coreset_prior && c.coreset_data)) name += c.coreset_prior ? " (prior)" : " (data)";
  }
  return name.empty() ? "baseline" : name;
}

}  // namespace gantry::train
