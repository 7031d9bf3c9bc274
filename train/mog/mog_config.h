#pragma once
// Everything that defines a mixture-of-Gaussians training run (the `gantry mog train` options), its
// validation (all checks happen before training starts) and its JSON form (config.json).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/core/device.h"
#include "models/mog_mlp.h"
#include "train/data/mixture_of_gaussians.h"
#include "train/run_kind.h"
#include "train/samplers.h"
#include "train/update_policy.h"

namespace gantry::mog {

// Upper bounds of the core-set factors (--fz, --fx) and of the candidates a core-set step draws
// (factor x batch): beyond them one step would take minutes or run out of memory.
using train::kMaxCoresetFactor;
using train::kMaxCoresetPool;
// Upper bounds of the protocol variants' network sizes (beyond them a step takes seconds).
inline constexpr int64_t kMaxLatentDim = 4096;
inline constexpr int64_t kMaxHiddenLayers = 64;

using train::BatchSelection;
using train::batch_selection_name;
using train::parse_batch_selection;

struct MogTrainConfig {
  // Problem and optimisation (defaults: the top-k paper's MoG setup).
  int64_t modes = 25;
  int64_t steps = 100000;  // generator steps
  int64_t batch = 256;
  uint64_t seed = 0;
  std::string loss = "non-saturating";
  double lr = 1e-4;
  double beta1 = 0.5;
  double beta2 = 0.999;
  int64_t d_steps = 1;
  // Protocol variants (the defaults are the pinned protocol; see docs/mog-protocol.md).
  std::string prior = "normal";  // latent prior: normal | uniform (on [-1, 1]^d)
  int64_t latent_dim = 2;
  int64_t hidden_layers = 3;  // hidden Linear+ReLU blocks of both MLPs (256 units each)
  double grid_spacing = data::MixtureOfGaussians::kDefaultSpacing;
  // Top-k.
  BatchSelection selection = BatchSelection::full;
  std::string topk_target = "g";  // g | d | gd
  double gamma = 0.99;
  std::string nu = "0.75";  // fraction of B or absolute count
  int64_t decay_every = 2000;
  // Core-set (Small-GAN).
  bool coreset_prior = false;
  double fz = 4.0;
  bool coreset_data = false;
  double fx = 8.0;
  bool anneal = false;  // factors go linearly from f to 1 over the run
  // Bookkeeping.
  int64_t eval_every = 0;        // 0: evaluate at the end only
  int64_t eval_samples = 10000;
  int64_t log_every = 100;
  int64_t checkpoint_every = 5000;  // plus one at the end
  int threads = 1;
  // Where training runs: cpu, cuda or cuda:N. Not part of the run's identity: a run may resume on
  // another device (weights, optimiser state and the RNG stream move with it).
  std::string device = "cpu";
  std::string out;

  // Throws gantry::Error with a message naming the option for every invalid setting.
  void validate() const;
  // The number of samples nu resolves to at this batch size.
  double nu_count() const;
  // The networks, the mixture and the latent prior these settings describe.
  models::MogMlpOptions arch() const;
  data::MixtureOfGaussians mixture() const;
  train::LatentPrior latent_prior() const;
  // A short name of the method ("baseline", "top-k", "core-set", ...).
  std::string method_name() const;
  nlohmann::json to_json() const;
  static MogTrainConfig from_json(const nlohmann::json& j);
  // The settings a resumed run must share with the run it continues (all but steps and bookkeeping;
  // the settings of features that are off are left out, as they do not change the run).
  nlohmann::json identity_json() const;
  // A short stable name of identity_json() (16 hex digits), stored in checkpoints and metrics.json.
  std::string identity_hash() const;
};

// The first identity setting (identity_json) in which two configurations differ (see
// train::identity_difference).
std::optional<train::IdentityDifference> identity_difference(const MogTrainConfig& first,
                                                             const MogTrainConfig& second);

// A --device value (cpu, cuda, cuda:N) that names a device this machine has; throws gantry::Error
// naming the option otherwise.
Device parse_available_device(const std::string& text);


}  // namespace gantry::mog
