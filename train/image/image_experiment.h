#pragma once
// A complete image-GAN training run built from an ImageTrainConfig: the model preset's networks and
// optimisers, the dataset's epoch-ordered batches (or core-set draws), top-k, the critic regularisers
// and generator terms, learning-rate decay and the EMA generator, all wired into the generic
// GanTrainer and run through the shared experiment loop. The run folder holds config.json,
// log.jsonl, metrics.json, samples.png (the latest grid from fixed latents; samples_ema.png for the
// EMA generator), samples/ (a grid every --sample-every steps), losses.png, checkpoint.safetensors
// and checkpoints/ (the last --keep-checkpoints step-numbered ones). `--resume` continues it
// bit-identically.
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "train/gan_trainer.h"
#include "train/image/image_config.h"

namespace gantry::image {

struct ImageRunOptions {
  bool resume = false;
  bool restart = false;
  std::FILE* progress = nullptr;
  std::FILE* messages = stdout;
  std::string data_cache;  // "": the default dataset cache
  std::string embedding_cache;  // "": <data cache>/embeddings (train/image/embedding_cache.h)
  std::string coreset_weights;  // the Inception embeddings' weights ("": the default FID weights path)
  std::string eval_weights;     // the evaluation network's weights ("": the default FID weights path)
  std::string fid_stats_cache;  // reference statistics cache ("": image::default_fid_stats_cache_dir())
  std::function<void(const train::GanStepStats&)> on_step;
  int64_t stop_after = -1;  // stop after this many steps of this invocation (simulates an interruption)
  std::function<bool()> stop_requested;
};

struct ImageRunResult {
  int64_t steps_done = 0;
  bool stopped = false;
  double seconds = 0;
  double steps_per_second = 0;
  std::vector<std::string> notes;
};

ImageRunResult run_image_training(const ImageTrainConfig& config, const ImageRunOptions& options = {});

}  // namespace gantry::image
