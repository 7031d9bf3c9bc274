#include "eval/inception_features.h"

#include <cstdlib>
#include <filesystem>

#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace gantry::eval {
namespace {

namespace fs = std::filesystem;

constexpr InceptionLayerInfo kLayers[] = {
    {InceptionLayer::pool3, "pool3", 2048, "FID", "pool3 (2048-d), FID's features; needs the full weights file", true},
    {InceptionLayer::mixed_7a, "mixed_7a", 1280, "FD_mixed_7a",
     "Mixed_7a average-pooled (1280-d); runs on the published per-layer weights", false},
    {InceptionLayer::mixed_6e, "mixed_6e", 768, "FD_mixed_6e",
     "Mixed_6e average-pooled (768-d); runs on the published per-layer weights", false},
};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

}  // namespace

const InceptionLayerInfo& inception_layer_info(InceptionLayer layer) {
  for (const InceptionLayerInfo& l : kLayers)
    if (l.layer == layer) return l;
  throw Error("internal: unknown Inception layer");
}

InceptionLayer parse_inception_layer(const std::string& name, const char* option) {
  std::string known;
  for (const InceptionLayerInfo& l : kLayers) {
    if (name == l.name) return l.layer;
    known += (known.empty() ? "" : ", ") + std::string(l.name);
  }
  GANTRY_FAIL(option, ": unknown Inception layer '", name, "' (expected one of ", known, ")");
}

std::string default_fid_weights_path() {
  if (const std::string p = env("GANTRY_FID_WEIGHTS"); !p.empty()) return p;
  const std::string xdg = env("XDG_CACHE_HOME");
  const std::string base = !xdg.empty() ? xdg : env("HOME") + "/.cache";
  return base + "/gantry/fid/" + models::kFidInceptionFileName;
}

std::string check_fid_weights_exist(const std::string& path, InceptionLayer layer, const char* option) {
  const std::string file = path.empty() ? default_fid_weights_path() : path;
  if (fs::exists(file)) return file;
  const InceptionLayerInfo& info = inception_layer_info(layer);
  std::string m = std::string(option) + ": the FID Inception weights " + file + " do not exist";
  if (path.empty()) m += " (the default place; $GANTRY_FID_WEIGHTS or " + std::string(option) + " names another)";
  m += ". The network's weights are pytorch-fid's " + std::string(models::kFidInceptionFileName) + " (" +
       std::to_string(models::kFidInceptionFileBytes) + " bytes), published at " + models::kFidInceptionUrl;
  if (info.needs_full_network)
    m += "; without it, the mixed_7a or mixed_6e layer runs on a folder of the per-layer folded .dat files "
         "(given to " +
         std::string(option) + ") and gives a feature distance, not FID";
  throw Error(m);
}

models::FidInceptionWeights load_weights_for_layer(const std::string& path, InceptionLayer layer, const char* option) {
  const std::string file = check_fid_weights_exist(path, layer, option);
  const InceptionLayerInfo& info = inception_layer_info(layer);
  models::FidInceptionWeights w = models::load_fid_inception_weights(file);
  if (info.needs_full_network && w.extent != models::InceptionExtent::full) {
    std::string missing;
    for (const std::string& f : w.missing) missing += (missing.empty() ? "" : ", ") + f;
    throw Error(std::string(option) + ": " + file + " has the network only through Mixed_7a (it lacks " + missing +
                "), so it cannot give " + info.metric + " on " + info.name + ". " + info.metric + " needs " +
                models::kFidInceptionFileName + " (" + models::kFidInceptionUrl +
                "); the mixed_7a or mixed_6e layer runs on these weights and gives a feature distance, not FID");
  }
  return w;
}

InceptionFeatureExtractor::InceptionFeatureExtractor(models::FidInceptionWeights weights, InceptionLayer layer,
                                                     Device device, int64_t batch)
    : weights_(std::move(weights)), layer_(layer), batch_(batch) {
  GANTRY_CHECK(batch >= 1, "InceptionFeatureExtractor: batch must be >= 1, got ", batch);
  const models::InceptionExtent extent = inception_layer_info(layer).needs_full_network
                                             ? models::InceptionExtent::full
                                             : models::InceptionExtent::through_mixed_7a;
  net_ = models::make_fid_inception(weights_, extent, device);
}

InceptionFeatureExtractor::~InceptionFeatureExtractor() = default;

Tensor InceptionFeatureExtractor::features(const Tensor& images) {
  GANTRY_CHECK(images.defined() && images.dim() == 4, "Inception features: expected images [N, C, H, W], got ",
               images.defined() ? shape_str(images.shape()) : std::string("an undefined tensor"));
  TensorList parts;
  for (int64_t at = 0; at < images.size(0); at += batch_) {
    const int64_t n = std::min(batch_, images.size(0) - at);
    const Tensor chunk = images.narrow(0, at, n);
    const models::InceptionFeatures f = net_->features(chunk);
    const Tensor& picked = layer_ == InceptionLayer::pool3      ? f.pool3
                           : layer_ == InceptionLayer::mixed_7a ? f.mixed_7a_pool
                                                                : f.mixed_6e_pool;
    parts.push_back(picked.to(kCPU));
  }
  return parts.size() == 1 ? parts[0] : cat(parts, 0);
}

std::pair<Tensor, Tensor> InceptionFeatureExtractor::pool3_and_logits(const Tensor& images) {
  GANTRY_CHECK(net_->extent() == models::InceptionExtent::full,
               "the Inception Score needs the full network and its fc layer (--layer pool3 and the full weights)");
  TensorList pools, logits;
  for (int64_t at = 0; at < images.size(0); at += batch_) {
    const int64_t n = std::min(batch_, images.size(0) - at);
    const models::InceptionFeatures f = net_->features(images.narrow(0, at, n));
    pools.push_back(f.pool3.to(kCPU));
    logits.push_back(f.logits_unbiased.to(kCPU));
  }
  return {cat(pools, 0), cat(logits, 0)};
}

nlohmann::json InceptionFeatureExtractor::protocol() const {
  const InceptionLayerInfo& l = layer();
  return {{"network", "FID Inception-v3 (TF inception-2015-12-05 as built by pytorch-fid), float32, BatchNorm folded"},
          {"layer", l.name},
          {"dim", l.dim},
          {"metric", l.metric},
          {"resize", "bilinear to 299x299, half-pixel centres, no antialiasing (pytorch-fid)"},
          {"scaling", "2x - 1 of pixels in [0, 1]"},
          {"weights",
           {{"source", weights_.source},
            {"format", weights_.format},
            {"sha256", weights_.file_sha256},
            {"folded_digest", weights_.digest},
            {"published_file", weights_.published_file()},
            {"extent", models::inception_extent_name(weights_.extent)}}}};
}

}  // namespace gantry::eval
