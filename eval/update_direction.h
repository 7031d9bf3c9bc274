#pragma once
// Update-direction analysis of the top-k paper (Sec. 4.3, Figs. 2-3): does one generator step, taken
// on the best-scored (top-k) or worst-scored (bottom-k) part of a large batch, move generated samples
// toward their nearest mode?
//
// Protocol (DESIGN.md, pinned): a fixed set of probe latents is generated before the step; each
// sample's "oracle direction" points to its nearest mode. One generator step is taken on COPIES of the
// generator and its optimiser state (the inputs are never modified), using the k fakes of an update
// batch the critic scores highest (or lowest). The probe latents are generated again, and per bin of
// distance-before (in units of the mode std: 0-1, 1-2, 2-3, 3-4, >4) we report the mean cosine between
// the displacement and the oracle direction, and the mean change of distance to that same mode.
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/tensor.h"
#include "engine/nn/module.h"
#include "engine/optim/optimizer.h"
#include "train/data/mixture_of_gaussians.h"
#include "train/losses.h"

namespace gantry::eval {

// ---- measuring displacements (no networks involved) ----

// One probe sample's movement relative to the mode nearest to it BEFORE the step.
struct SampleMovement {
  int64_t nearest_mode = 0;
  double distance_before = 0;  // to that mode, data units
  double distance_after = 0;   // to the same mode
  // cos(after - before, mode - before); 0 when the sample did not move or sits exactly on the mode.
  double cosine = 0;
};

// Samples whose distance-before d (in std units) has lower_std < d <= upper_std (the first bin
// includes 0). Upper edges are inclusive so the last bin (> 4 std) holds exactly the samples that are
// not high quality in eval/mog_metrics.h's sense (within 4 std).
struct DirectionBin {
  double lower_std = 0;
  double upper_std = std::numeric_limits<double>::infinity();
  int64_t count = 0;
  double mean_cosine = 0;           // 0 for an empty bin
  double mean_distance_change = 0;  // mean(after - before), data units; < 0: moved closer
};

// Interior bin edges in std units: the paper's bins 0-1, 1-2, 2-3, 3-4 and > 4 std.
inline const std::vector<double> kPaperBinEdgesStd = {1.0, 2.0, 3.0, 4.0};

// before, after: [N, 2] positions of the same probe samples (any float dtype/device).
std::vector<SampleMovement> measure_movements(const Tensor& before, const Tensor& after,
                                              const data::MixtureOfGaussians& mixture);
// Bins the movements by distance_before / mixture std. edges_std: strictly increasing, > 0.
std::vector<DirectionBin> bin_movements(const std::vector<SampleMovement>& movements, double mode_std,
                                        const std::vector<double>& edges_std = kPaperBinEdgesStd);

// ---- one analysed generator step ----

// Builds a fresh generator with the same architecture (its weights are overwritten by the copy).
using ModuleFactory = std::function<std::shared_ptr<nn::Module>()>;
// Builds an optimiser of the generator's kind over the given parameters (its state is overwritten).
using OptimizerFactory = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;

struct UpdateDirectionInputs {
  nn::Module* generator = nullptr;                        // read only
  nn::Module* critic = nullptr;                           // read only (never stepped)
  const optim::Optimizer* generator_optimizer = nullptr;  // read only: its state is cloned
  ModuleFactory make_generator;
  OptimizerFactory make_generator_optimizer;
  const data::MixtureOfGaussians* mixture = nullptr;
  Tensor probe_latents;   // [N, latent_dim]: the samples whose movement is measured (paper: 1,000)
  Tensor update_latents;  // [B, latent_dim]: the batch the step selects from (paper: 10,000)
  train::GanLoss loss = train::GanLoss::non_saturating;
};

enum class KeptSamples { top_k, bottom_k };
const char* kept_samples_name(KeptSamples kept);

struct UpdateDirectionResult {
  KeptSamples kept = KeptSamples::top_k;
  int64_t k = 0;           // update-batch samples the step used
  int64_t batch_size = 0;  // B
  std::vector<int64_t> selected_indices;  // rows of update_latents the step used (score order)
  Tensor probes_before, probes_after;     // [N, 2] the probe samples before and after the step
  double generator_loss = 0;              // of the step, on the kept scores
  std::vector<SampleMovement> movements;  // one per probe latent
  std::vector<DirectionBin> bins;
  // Over all probes.
  double mean_cosine = 0;
  double mean_distance_change = 0;

  nlohmann::json to_json() const;  // everything but the per-sample movements and indices
};

// The number of samples a fraction of B keeps: round(fraction * B), at least 1. fraction in (0, 1].
int64_t kept_count(int64_t batch_size, double fraction);

// Takes one step on copies of the generator and its optimiser using the top (or bottom) `fraction`
// of the update batch by critic score, and measures how the probe samples moved. Throws
// gantry::Error for missing inputs, latents of the wrong shape, or a fraction outside (0, 1].
UpdateDirectionResult analyse_update_direction(const UpdateDirectionInputs& inputs, KeptSamples kept,
                                               double fraction,
                                               const std::vector<double>& edges_std = kPaperBinEdgesStd);

}  // namespace gantry::eval
