#pragma once
// The command-line options of the papers' methods (--topk, --bottomk, --soft-topk, --topk-target, --gamma, --nu,
// --decay-every, --coreset-prior, --fz, --coreset-data, --fx) applied to any kind of run
// configuration with the members of train/method_settings.h, and the refusal of an option whose
// feature is off. Shared by `mog train` and `image train`.
#include "engine/core/error.h"
#include "train/cli/arg_parser.h"
#include "train/update_policy.h"

namespace gantry::cli {

// Refuses option `name` when it was given but `feature_on` is false: it would be stored without effect.
void refuse_unless_feature_on(const ArgParser& p, bool feature_on, const char* name, const char* needs);

template <typename Config>
void apply_method_options(const ArgParser& p, Config& c) {
  GANTRY_CHECK(int(p.flag_set("topk")) + int(p.flag_set("bottomk")) + int(p.flag_set("soft-topk")) <= 1,
               p.flag_set("soft-topk") ? "--soft-topk, --topk and --bottomk are mutually exclusive"
                                       : "--topk and --bottomk are mutually exclusive");
  if (p.flag_set("topk")) c.selection = train::BatchSelection::top_k;
  if (p.flag_set("bottomk")) c.selection = train::BatchSelection::bottom_k;
  if (p.flag_set("soft-topk")) c.selection = train::BatchSelection::soft_top_k;
  p.assign_if_given("topk-target", c.topk_target);
  p.assign_if_given("gamma", c.gamma);
  p.assign_if_given("nu", c.nu);
  p.assign_if_given("decay-every", c.decay_every);
  if (p.flag_set("coreset-prior")) c.coreset_prior = true;
  p.assign_if_given("fz", c.fz);
  if (p.flag_set("coreset-data")) c.coreset_data = true;
  p.assign_if_given("fx", c.fx);
}

template <typename Config>
void refuse_method_options_that_are_off(const ArgParser& p, const Config& c) {
  for (const char* name : {"topk-target", "gamma", "nu", "decay-every"})
    refuse_unless_feature_on(p, c.selection != train::BatchSelection::full, name, "--topk, --bottomk or --soft-topk");
  refuse_unless_feature_on(p, c.coreset_prior, "fz", "--coreset-prior");
  refuse_unless_feature_on(p, c.coreset_data, "fx", "--coreset-data");
}

}  // namespace gantry::cli
