#include "train/image/fid_sources.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/digest.h"
#include "engine/io/npz.h"
#include "engine/ops/ops.h"
#include "eval/plot/image_grid.h"
#include "train/data/image_dataset.h"
#include "train/image/generated_images.h"
#include "train/image/image_run_loading.h"
#include "train/progress_display.h"

namespace gantry::image {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// "<label>: 1,250 / 50,000 images, 41.3 images/s, 19m left" on stderr every 10 s and at the end.
class CountProgress {
 public:
  CountProgress(std::string label, int64_t total, bool on) : label_(std::move(label)), total_(total), on_(on) {}
  void update(int64_t done) {
    if (!on_) return;
    const auto now = Clock::now();
    if (done < total_ && now - last_ < std::chrono::seconds(10)) return;
    last_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
    std::fprintf(stderr, "  %s: %lld / %lld images, %.1f images/s%s\n", label_.c_str(), static_cast<long long>(done),
                 static_cast<long long>(total_), rate,
                 done < total_ && rate > 0
                     ? (", " + train::format_duration(static_cast<double>(total_ - done) / rate) + " left").c_str()
                     : "");
  }

 private:
  std::string label_;
  int64_t total_;
  bool on_;
  Clock::time_point start_ = Clock::now(), last_ = Clock::now();
};

// Runs the network on a source's image batches: the statistics of their features, and the features and
// logits themselves when they are kept.
class FeatureSink {
 public:
  FeatureSink(eval::InceptionFeatureExtractor& ex, const FidSourceOptions& o)
      : ex_(ex), acc_(ex.dim()), keep_features_(o.keep_features), keep_logits_(o.keep_logits) {}
  // images [N, C, H, W] in [0, 1]
  void add(const Tensor& images) {
    Tensor features;
    if (keep_logits_) {
      auto [pool3, logits] = ex_.pool3_and_logits(images);
      features = pool3;
      logits_.push_back(logits);
    } else {
      features = ex_.features(images);
    }
    acc_.add(features);
    if (keep_features_) features_.push_back(features);
  }
  const eval::FeatureStatisticsAccumulator& statistics() const { return acc_; }
  Tensor features() const { return features_.empty() ? Tensor() : cat(features_, 0); }
  Tensor logits() const { return logits_.empty() ? Tensor() : cat(logits_, 0); }

 private:
  eval::InceptionFeatureExtractor& ex_;
  eval::FeatureStatisticsAccumulator acc_;
  bool keep_features_, keep_logits_;
  TensorList features_, logits_;
};

eval::FeatureStatistics finish_checked(const eval::FeatureStatisticsAccumulator& acc, const std::string& spec,
                                       const char* option) {
  GANTRY_CHECK(acc.count() >= 2, option, ": ", spec, " gave ", acc.count(),
               " images; the covariance needs at least 2 (FID is normally computed on 10,000 to 50,000)");
  eval::FeatureStatistics s = acc.finish();
  if (s.singular())
    std::fprintf(stderr,
                 "warning: %s: %lld images for %lld-d features: the covariance is singular and the distance noisy "
                 "(use more images than dimensions)\n",
                 option, static_cast<long long>(s.count), static_cast<long long>(s.dim()));
  return s;
}

FidSource from_statistics_npz(const std::string& spec, const eval::InceptionFeatureExtractor& ex, const char* option) {
  FidSource s;
  s.stats = eval::load_statistics_npz(spec, ex.dim());
  s.protocol = {{"spec", spec}, {"kind", "statistics file"}, {"count", nullptr}};
  return s;
}

FidSource from_images_npz(const std::string& spec, const Tensor& arr, eval::InceptionFeatureExtractor& ex,
                          const FidSourceOptions& o, const char* option) {
  GANTRY_CHECK(arr.dtype() == DType::u8 && arr.dim() == 4 && (arr.size(3) == 1 || arr.size(3) == 3), option, ": ", spec,
               ": arr_0 must be uint8 images [N, H, W, C] with C 1 or 3, got ", dtype_name(arr.dtype()), " ",
               shape_str(arr.shape()));
  const int64_t available = arr.size(0), n = o.count > 0 ? o.count : available;
  GANTRY_CHECK(n <= available, option, ": ", spec, " holds ", available, " images, fewer than the ", n, " asked for");
  FeatureSink sink(ex, o);
  CountProgress progress(spec, n, o.progress);
  for (int64_t at = 0; at < n; at += o.batch) {
    const int64_t k = std::min(o.batch, n - at);
    const Tensor nhwc = arr.narrow(0, at, k);
    sink.add(div(nhwc.permute({0, 3, 1, 2}).to(DType::f32), 255.0));
    progress.update(at + k);
  }
  FidSource s;
  s.stats = finish_checked(sink.statistics(), spec, option);
  s.features = sink.features();
  s.logits = sink.logits();
  s.protocol = {{"spec", spec}, {"kind", "images file"}, {"count", n}, {"subset", n < available ? "first" : "all"}};
  return s;
}

bool is_run(const std::string& spec) {
  return (fs::is_directory(spec) && fs::exists(fs::path(spec) / "config.json")) ||
         (fs::is_regular_file(spec) && !spec.ends_with(".npz"));
}

FidSource from_run(const std::string& spec, eval::InceptionFeatureExtractor& ex, const FidSourceOptions& o,
                   const char* option) {
  const int64_t count = o.count > 0 ? o.count : kDefaultGeneratedImages;
  LoadedImageRun run = load_image_run(spec, option);
  const bool ema = o.use_ema && run.ema;
  if (ema) run = load_image_run(spec, option, /*use_ema=*/true);
  GeneratedImages generated(run.nets, o.seed);
  FeatureSink sink(ex, o);
  CountProgress progress(spec + " (generating)", count, o.progress);
  for (int64_t at = 0; at < count; at += o.batch) {
    const int64_t k = std::min(o.batch, count - at);
    sink.add(plot::images_as_saved_unit_range(generated.next(k).images));
    progress.update(at + k);
  }
  FidSource s;
  s.stats = finish_checked(sink.statistics(), spec, option);
  s.features = sink.features();
  s.logits = sink.logits();
  s.protocol = {{"spec", spec},
                {"kind", "run"},
                {"count", count},
                {"model", run.nets.config.model},
                {"step", run.step},
                {"checkpoint", run.checkpoint_path},
                {"generator", ema ? "ema" : "raw"},
                {"batch_norm", "eval mode (running statistics)"},
                {"truncation", nullptr},
                {"latent_seed", o.seed},
                {"quantised", "8-bit, as saved PNG files"}};
  return s;
}

FidSource from_dataset(const std::string& spec, eval::InceptionFeatureExtractor& ex, const FidSourceOptions& o,
                       const char* option) {
  data::DatasetOpenOptions open;
  open.cache_dir = o.data_cache;
  const auto dataset = data::open_image_dataset(spec, open);
  const data::ImageDatasetInfo& info = dataset->info();
  const int64_t n = o.count > 0 ? o.count : info.size;
  GANTRY_CHECK(n <= info.size, option, ": ", info.name, " has ", info.size, " images, fewer than the ", n,
               " asked for");
  nlohmann::json protocol = {{"spec", spec},
                             {"kind", "dataset"},
                             {"dataset", info.name},
                             {"count", n},
                             {"subset", n < info.size ? "first" : "all"},
                             {"dataset_identity", info.identity}};
  const std::string key = info.identity + "|" + ex.layer().name + "|" + ex.weights().digest + "|" + std::to_string(n);
  const std::string cached =
      o.stats_cache.empty() ? "" : (fs::path(o.stats_cache) / ("stats-" + io::fnv1a64_hex(key) + ".npz")).string();
  FidSource s;
  if (!cached.empty() && fs::exists(cached) && !o.keep_features && !o.keep_logits) {
    s.stats = eval::load_statistics_npz(cached, ex.dim());
    s.stats.count = n;
    protocol["cached_statistics"] = cached;
    s.protocol = protocol;
    return s;
  }
  const int64_t c = info.channels, h = info.height, w = info.width;
  FeatureSink sink(ex, o);
  CountProgress progress(info.name, n, o.progress);
  std::vector<uint8_t> pixels(static_cast<size_t>(c * h * w));
  for (int64_t at = 0; at < n; at += o.batch) {
    const int64_t k = std::min(o.batch, n - at);
    Tensor batch = empty({k, c, h, w}, DType::f32);
    float* dst = batch.data_ptr<float>();
    for (int64_t i = 0; i < k; ++i) {
      dataset->read(at + i, pixels.data());
      for (size_t j = 0; j < pixels.size(); ++j) dst[static_cast<size_t>(i) * pixels.size() + j] = pixels[j] / 255.0f;
    }
    sink.add(batch);
    progress.update(at + k);
  }
  s.stats = finish_checked(sink.statistics(), spec, option);
  s.features = sink.features();
  s.logits = sink.logits();
  if (!cached.empty()) {
    fs::create_directories(o.stats_cache);
    eval::save_statistics_npz(cached, s.stats);
    protocol["cached_statistics"] = cached;
  }
  s.protocol = protocol;
  return s;
}

}  // namespace

std::string default_fid_stats_cache_dir() {
  if (const char* d = std::getenv("GANTRY_FID_STATS_DIR"); d && *d) return d;
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  const std::string base = xdg && *xdg ? std::string(xdg) : std::string(home ? home : ".") + "/.cache";
  return base + "/gantry/fid-stats";
}

FidSource fid_source_statistics(const std::string& spec, eval::InceptionFeatureExtractor& features,
                                const FidSourceOptions& options, const char* option) {
  GANTRY_CHECK(!spec.empty(), option, ": expected a dataset, image folder, run, or .npz file");
  GANTRY_CHECK(options.batch >= 1, "--batch: must be >= 1, got ", options.batch);
  GANTRY_CHECK(!options.keep_logits || features.layer().layer == eval::InceptionLayer::pool3, option,
               ": the Inception Score needs the network's logits, so --layer pool3 and the full weights (got --layer ",
               features.layer().name, ")");
  if (spec.ends_with(".npz")) {
    GANTRY_CHECK(fs::exists(spec), option, ": ", spec, " does not exist");
    const auto arrays = io::load_npz(spec);
    bool has_mu = false, has_sigma = false;
    std::string members;
    for (const auto& [name, t] : arrays) {
      has_mu |= name == "mu";
      has_sigma |= name == "sigma";
      members += (members.empty() ? "" : ", ") + name;
      if (name == "arr_0") return from_images_npz(spec, t, features, options, option);
    }
    if (has_mu && has_sigma) {
      GANTRY_CHECK(!options.keep_features && !options.keep_logits, option, ": ", spec,
                   " is a statistics file (mu, sigma only): KID, precision/recall and the Inception Score need the "
                   "images; give the images instead (a dataset, folder, run or images .npz)");
      return from_statistics_npz(spec, features, option);
    }
    GANTRY_FAIL(option, ": ", spec, " holds neither statistics (mu, sigma) nor images (arr_0); it has: ", members);
  }
  if (is_run(spec)) return from_run(spec, features, options, option);
  return from_dataset(spec, features, options, option);
}

}  // namespace gantry::image
