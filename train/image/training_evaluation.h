#pragma once
// Evaluation while an image run trains: every eval_every steps, eval_count images from fixed latents
// (the same ones each time, so successive values differ by the model, not the draw) of the EMA
// generator when the run keeps one, else the raw one, in eval mode, quantised as saved PNGs would be;
// their Fréchet distance on Inception features (FID on pool3, FD_<layer> on the earlier layers) to
// the reference's statistics (the training dataset by default, cached like `gantry fid`'s). Each value
// goes to evals.jsonl with its step; with keep_best the checkpoint that scored best so far is kept as
// best.safetensors, described by best.json (step, value, protocol). A resumed run continues the log
// and the best from the checkpoint's step, and refuses a best.json measured another way.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "eval/feature_statistics.h"
#include "eval/inception_features.h"
#include "models/image_gan_models.h"
#include "train/image/image_config.h"
#include "train/image/image_experiment.h"
#include "train/run_folder.h"

namespace gantry::image {

class TrainingEvaluation {
 public:
  // resumed_at: the checkpoint's step when the run resumes (records after it are dropped), else -1.
  TrainingEvaluation(const ImageTrainConfig& config, const ImageRunOptions& options, const train::RunFolder& folder,
                     Device device, int64_t resumed_at);
  ~TrainingEvaluation();

  bool due(int64_t step) const { return every_ > 0 && step % every_ == 0; }
  // Scores `nets` at `step`, logs it, and when it is the best so far (lower is better) and keep_best is
  // set calls save_best(path) to write the checkpoint there, then writes best.json.
  double evaluate(models::ImageGanModels& nets, int64_t step, const std::function<void(const std::string&)>& save_best);
  // {metric, protocol, last, best} for metrics.json.
  nlohmann::json summary() const;

 private:
  std::string protocol_key() const;

  int64_t every_, count_;
  bool keep_best_;
  uint64_t latent_seed_;
  const train::RunFolder& folder_;
  eval::InceptionFeatureExtractor extractor_;
  eval::FeatureStatistics reference_;
  nlohmann::json protocol_;
  train::JsonLinesLog log_;
  std::optional<nlohmann::json> last_, best_;
};

}  // namespace gantry::image
