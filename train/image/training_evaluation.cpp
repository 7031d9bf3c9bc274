#include "train/image/training_evaluation.h"

#include <chrono>
#include <fstream>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "eval/frechet_distance.h"
#include "eval/plot/image_grid.h"
#include "train/image/fid_sources.h"
#include "train/image/generated_images.h"

namespace gantry::image {
namespace {

// The evaluation latents' own stream, apart from training's and the sample grid's.
constexpr uint64_t kEvalLatentStream = 0x6576616c4c61ULL;

}  // namespace

TrainingEvaluation::TrainingEvaluation(const ImageTrainConfig& c, const ImageRunOptions& o,
                                       const train::RunFolder& folder, Device device, int64_t resumed_at)
    : every_(c.eval_every),
      count_(c.eval_count),
      keep_best_(c.keep_best),
      latent_seed_(c.seed ^ kEvalLatentStream),
      folder_(folder),
      extractor_(eval::load_weights_for_layer(o.eval_weights, eval::parse_inception_layer(c.eval_layer, "--eval-layer"),
                                              "--eval-weights"),
                 eval::parse_inception_layer(c.eval_layer, "--eval-layer"), device),
      log_(resumed_at >= 0 ? train::JsonLinesLog(folder.file(kImageEvalLogFile), resumed_at)
                           : train::JsonLinesLog(folder.file(kImageEvalLogFile))) {
  FidSourceOptions ro;
  ro.count = c.eval_reference_count;
  ro.data_cache = o.data_cache;
  ro.stats_cache = o.fid_stats_cache.empty() ? default_fid_stats_cache_dir() : o.fid_stats_cache;
  ro.progress = o.messages != nullptr;
  const std::string reference = c.eval_reference.empty() ? c.dataset : c.eval_reference;
  const FidSource ref = fid_source_statistics(reference, extractor_, ro, "--eval-reference");
  reference_ = ref.stats;
  protocol_ = {{"inception", extractor_.protocol()},
               {"reference", ref.protocol},
               {"generated",
                {{"count", count_},
                 {"generator", c.ema_decay > 0 ? "ema" : "raw"},
                 {"batch_norm", "eval mode (running statistics)"},
                 {"latents", "the same fixed latents at every evaluation"},
                 {"truncation", nullptr},
                 {"quantised", "8-bit, as saved PNG files"}}}};
  // The log kept up to the checkpoint's step gives the last and best values so far. A best.json of a
  // later step (the run was interrupted after it) is overwritten when the resumed run gets there again.
  for (const nlohmann::json& r : log_.kept_records()) {
    last_ = r;
    if (!best_ || r.at("value").get<double>() < best_->at("value").get<double>()) best_ = r;
  }
  if (resumed_at >= 0 && keep_best_ && folder.exists(kImageBestFile)) {
    const nlohmann::json best = nlohmann::json::parse(io::read_file(folder.file(kImageBestFile)));
    GANTRY_CHECK(best.value("protocol_key", std::string()) == protocol_key(), folder.file(kImageBestFile),
                 " was measured with another evaluation (network weights, layer, reference or count) than this run's "
                 "now; resume with the same --eval-* options and --eval-weights, or move it aside");
  }
}

TrainingEvaluation::~TrainingEvaluation() = default;

std::string TrainingEvaluation::protocol_key() const {
  return extractor_.weights().digest + "|" + extractor_.layer().name + "|" + protocol_["reference"].dump() + "|" +
         std::to_string(count_);
}

double TrainingEvaluation::evaluate(models::ImageGanModels& nets, int64_t step,
                                    const std::function<void(const std::string&)>& save_best) {
  const auto start = std::chrono::steady_clock::now();
  GeneratedImages generated(nets, latent_seed_);
  eval::FeatureStatisticsAccumulator acc(extractor_.dim());
  constexpr int64_t kBatch = 50;
  for (int64_t at = 0; at < count_; at += kBatch)
    acc.add(
        extractor_.features(plot::images_as_saved_unit_range(generated.next(std::min(kBatch, count_ - at)).images)));
  const eval::FrechetDistance d = eval::frechet_distance(reference_, acc.finish());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json record = {{"step", step},
                           {"metric", extractor_.layer().metric},
                           {"value", d.value},
                           {"eps_fallback", d.used_offset},
                           {"seconds", seconds}};
  const bool better = !best_ || d.value < best_->at("value").get<double>();
  if (better && keep_best_) {
    save_best(folder_.file(kImageBestCheckpointFile));
    best_ = {{"step", step},          {"metric", extractor_.layer().metric},
             {"value", d.value},      {"checkpoint", kImageBestCheckpointFile},
             {"protocol", protocol_}, {"protocol_key", protocol_key()}};
    io::write_file_atomic(folder_.file(kImageBestFile), best_->dump(2) + "\n");
    record["best"] = true;
  } else if (better) {
    best_ = record;
  }
  log_.write(record);
  last_ = record;
  return d.value;
}

nlohmann::json TrainingEvaluation::summary() const {
  nlohmann::json s = {{"metric", extractor_.layer().metric},
                      {"is_fid", extractor_.layer().layer == eval::InceptionLayer::pool3},
                      {"protocol", protocol_},
                      {"last", last_ ? *last_ : nlohmann::json()},
                      {"best", nlohmann::json()}};
  if (best_) s["best"] = {{"step", best_->at("step")}, {"value", best_->at("value")}};
  return s;
}

}  // namespace gantry::image
