#pragma once
// Everything that defines an image-GAN training run (`gantry image train`): the model preset and the
// settings of the paper that proposed it, every one overridable; the method (top-k, core-sets); the
// bookkeeping. Validation happens before any folder is touched; the JSON form is config.json.
//
// Presets (docs/image-gans.md lists each value with its source):
//   dcgan    Radford et al. 2016: non-saturating loss, Adam 2e-4 (0.5, 0.999), 1 critic step
//   wgan-gc  Arjovsky et al. 2017: Wasserstein loss, RMSprop 5e-5, weights clipped to 0.01, 5 critic steps
//   wgan-gp  Gulrajani et al. 2017: Wasserstein loss + gradient penalty 10, Adam 1e-4 (0, 0.9), 5 critic
//            steps, a critic without normalisation (their DCGAN-like CIFAR-10 networks)
//   msgan    Mao et al. 2019: DCGAN + the mode-seeking term (weight 1)
//   sngan    Miyato et al. 2018: ResNet, hinge loss, Adam 2e-4 (0, 0.9), 5 critic steps, linear decay
//   sagan    Zhang et al. 2019: ResNet + self-attention, spectral norm in G and D, hinge, TTUR
//            1e-4 / 4e-4 (0, 0.9), 1 critic step
// The top-k paper keeps each model's own settings and uses batch 128 throughout.
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "train/run_kind.h"
#include "train/update_policy.h"

namespace gantry::image {

// The run folder's files.
inline constexpr const char* kImageCheckpointFile = "checkpoint.safetensors";
inline constexpr const char* kImageConfigFile = "config.json";
inline constexpr const char* kImageMetricsFile = "metrics.json";
inline constexpr const char* kImageLogFile = "log.jsonl";
inline constexpr const char* kImageSamplesFile = "samples.png";       // the latest grid from the fixed latents
inline constexpr const char* kImageEmaSamplesFile = "samples_ema.png";  // the same from the EMA generator
inline constexpr const char* kImageLossesFile = "losses.png";         // loss curves
inline constexpr const char* kImageSamplesFolder = "samples";         // a grid per --sample-every
inline constexpr const char* kImageCheckpointsFolder = "checkpoints";  // step-numbered checkpoints kept
inline constexpr const char* kImageEvalLogFile = "evals.jsonl";        // one record per --eval-every
inline constexpr const char* kImageBestCheckpointFile = "best.safetensors";  // --keep-best
inline constexpr const char* kImageBestFile = "best.json";                   // what best.safetensors scored

using train::BatchSelection;

// The largest --coreset-dim: a projection wider than this only costs memory and k-center time.
inline constexpr int64_t kMaxCoresetDim = 65536;

struct ImageTrainConfig {
  // Model and data.
  std::string model = "dcgan";
  std::string dataset = "mnist";  // a dataset name (mnist, fashion-mnist, cifar10[:train|:test]) or a folder
  int64_t image_size = 32;
  bool conditional = false;  // class-conditional G and D (needs a labelled dataset)
  // 0: the model's own (models/image_gan_models.h).
  int64_t latent_dim = 0;
  int64_t g_width = 0;  // generator width (DCGAN ngf; ResNet channels)
  int64_t d_width = 0;  // critic width
  bool random_flip = false;
  // Optimisation (set by the preset).
  std::string loss = "non-saturating";
  std::string optimizer = "adam";  // adam | rmsprop
  double g_lr = 2e-4, d_lr = 2e-4;
  double beta1 = 0.5, beta2 = 0.999;  // Adam
  std::string lr_decay = "none";      // none | linear (to 0 at the last step)
  int64_t d_steps = 1;
  double gp_weight = 0;  // WGAN-GP gradient penalty (0: off)
  double r1_gamma = 0;   // R1 on reals (0: off)
  double clip = 0;       // critic weight clipping bound (0: off)
  double ms_weight = 0;  // MSGAN mode-seeking term (0: off)
  double ema_decay = 0;  // EMA of the generator's weights (0: off)
  int64_t ema_start = 0;
  int64_t batch = 128;
  int64_t steps = 10000;  // generator steps
  uint64_t seed = 0;
  // Top-k: k decays once per epoch (critic passes over the training set) unless decay_every > 0.
  BatchSelection selection = BatchSelection::full;
  std::string topk_target = "g";
  double gamma = 0.99;
  std::string nu = "0.5";
  int64_t decay_every = 0;
  // Core-sets (Small-GAN): on the prior, and on the data through the embeddings of
  // train/image/image_embedder.h, projected to coreset_dim dimensions by a fixed Gaussian matrix
  // (0: no projection) and cached (train/image/embedding_cache.h). docs/image-gans.md maps the
  // ablations of Small-GAN's Table 6 to these settings.
  bool coreset_prior = false;
  double fz = 4.0;
  bool coreset_data = false;
  double fx = 8.0;
  std::string coreset_embedding = "pixels";
  int64_t coreset_dim = 32;
  uint64_t coreset_projection_seed = 0;
  // Evaluation while training (train/image/training_evaluation.h): a Fréchet distance on Inception
  // features (FID on pool3) of eval_count generated images against eval_reference every eval_every
  // steps, and with keep_best the checkpoint that scored best. Not part of the run's identity.
  int64_t eval_every = 0;  // 0: no evaluation
  std::string eval_layer = "pool3";
  int64_t eval_count = 5000;
  std::string eval_reference;        // "": the training dataset
  int64_t eval_reference_count = 0;  // 0: all its images
  bool keep_best = false;
  // Bookkeeping.
  int64_t sample_every = 500;      // sample grid from fixed latents every N steps (0: at the end only)
  int64_t checkpoint_every = 1000;  // plus one at the end
  int64_t keep_checkpoints = 2;     // step-numbered checkpoints kept besides the latest
  int64_t log_every = 50;
  int threads = 1;
  std::string device = "cpu";
  std::string out;

  // Sets the model and every optimisation setting to that model's preset.
  static ImageTrainConfig preset(const std::string& model);
  void validate() const;
  double nu_count() const;
  std::string method_name() const;
  nlohmann::json to_json() const;
  static ImageTrainConfig from_json(const nlohmann::json& j);
  nlohmann::json identity_json() const;
  std::string identity_hash() const;
};

// The image run as a train::RunKind, and a configuration as that machinery sees it.
const train::RunKind& image_run_kind();
train::RecordedConfig recorded_config(const ImageTrainConfig& config);

}  // namespace gantry::image
