#pragma once
// The two sides of a Fréchet distance on Inception features, each named by one string:
//   - a statistics file: an .npz with `mu` and `sigma` (pytorch-fid's layout; `gantry fid stats` writes it);
//   - an images file: an .npz with a uint8 `arr_0` [N, H, W, C] (`gantry image sample --out x.npz`
//     and the usual FID tools write it);
//   - a run: a folder (or checkpoint) of `gantry image train`, whose generator makes the images;
//   - a dataset: "cifar10:train", "mnist:test", ... or a folder of PNG/JPEG images.
// Each gives the float64 feature statistics and the JSON that records what they came from: the spec,
// its kind, the number of images, the split, for runs the generator mode (EMA or raw, BatchNorm in
// eval mode with running statistics), the seed and that no truncation was applied. Images from a run are
// quantised to 8 bits first, as saving them to PNG would, so a run and its saved samples agree.
// A dataset's statistics are cached (keyed by the dataset's identity, the layer, the weights' digest and
// the image count), so the reference side is computed once.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "eval/feature_statistics.h"
#include "eval/inception_features.h"

namespace gantry::image {

// Images generated from a run when no count is given: the usual FID sample size.
inline constexpr int64_t kDefaultGeneratedImages = 50000;

struct FidSourceOptions {
  int64_t count = 0;        // images used: 0 = all (datasets, image files), kDefaultGeneratedImages (runs)
  uint64_t seed = 0;        // a run's latents
  bool use_ema = true;      // a run's EMA generator when it kept one
  int64_t batch = 50;       // images generated or read at once
  std::string data_cache;   // the dataset cache ("" = the default)
  std::string stats_cache;  // where dataset statistics are cached ("" = not cached)
  bool progress = true;     // a line on stderr every few seconds
  bool keep_features = false;  // also return the features (KID and precision/recall need them)
  bool keep_logits = false;    // also return the bias-free logits (the Inception Score; pool3 only)
};

struct FidSource {
  eval::FeatureStatistics stats;
  nlohmann::json protocol;
  Tensor features;  // [N, dim] f32, with keep_features
  Tensor logits;    // [N, 1008] f32, with keep_logits
};

// `option` names the command-line option in errors ("--real", "--fake"). With keep_features or
// keep_logits a statistics file is refused (it holds neither) and a dataset's cached statistics are not
// used; keep_logits needs the extractor on pool3 (the full network).
FidSource fid_source_statistics(const std::string& spec, eval::InceptionFeatureExtractor& features,
                                const FidSourceOptions& options, const char* option);

// $GANTRY_FID_STATS_DIR, else $XDG_CACHE_HOME/gantry/fid-stats, else ~/.cache/gantry/fid-stats.
std::string default_fid_stats_cache_dir();

}  // namespace gantry::image
