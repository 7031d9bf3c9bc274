#pragma once
// Features of the FID Inception network for metrics and core-sets: a layer of the network (pool3 for
// FID, or an average-pooled earlier block, which the published per-layer weights can run without the
// full file), the images pushed through in batches, and the protocol that makes a number computed on
// them comparable: network, weights (file, format, SHA-256, digest of the folded weights), layer,
// resize and scaling. A distance on a layer other than pool3 is a Fréchet distance of other features:
// its name says so, and it is never called FID.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/core/tensor.h"
#include "models/fid_inception.h"
#include "models/fid_inception_weights.h"

namespace gantry::eval {

enum class InceptionLayer { pool3, mixed_7a, mixed_6e };

struct InceptionLayerInfo {
  InceptionLayer layer;
  const char* name;         // the option value: "pool3", "mixed_7a", "mixed_6e"
  int64_t dim;              // 2048, 1280, 768
  const char* metric;       // what a Fréchet distance on it is called: "FID", "FD_mixed_7a", "FD_mixed_6e"
  const char* description;  // one line for --help and reports
  bool needs_full_network;  // pool3 needs the full weights file
};

const InceptionLayerInfo& inception_layer_info(InceptionLayer layer);
// Throws naming `option` and the known layers.
InceptionLayer parse_inception_layer(const std::string& name, const char* option = "--layer");

// Where the FID weights are looked for when none are given: $GANTRY_FID_WEIGHTS, else
// $XDG_CACHE_HOME/gantry/fid/<published name>, else ~/.cache/gantry/fid/<published name>.
std::string default_fid_weights_path();
// The weights file `path` names ("" for the default), when it exists; otherwise throws as below. A
// cheap check for commands to run before they create anything.
std::string check_fid_weights_exist(const std::string& path, InceptionLayer layer, const char* option = "--weights");
// `path` ("" for the default) loaded for `layer`; a missing file throws naming the file looked for,
// the published file's name, size and address, and for pool3 the weights-free alternative.
models::FidInceptionWeights load_weights_for_layer(const std::string& path, InceptionLayer layer,
                                                   const char* option = "--weights");

class InceptionFeatureExtractor {
 public:
  // batch: images per forward pass (the network's memory grows with it: about 40 MB per image).
  InceptionFeatureExtractor(models::FidInceptionWeights weights, InceptionLayer layer, Device device = kCPU,
                            int64_t batch = 50);
  ~InceptionFeatureExtractor();

  const InceptionLayerInfo& layer() const { return inception_layer_info(layer_); }
  int64_t dim() const { return layer().dim; }
  const models::FidInceptionWeights& weights() const { return weights_; }
  // images [N, C, H, W] in [0, 1] (C 1 or 3) -> [N, dim()] f32 on the CPU.
  Tensor features(const Tensor& images);
  // The same images' bias-free logits [N, 1008] (for the Inception Score) with their pool3
  // features; needs the full network.
  std::pair<Tensor, Tensor> pool3_and_logits(const Tensor& images);
  // Network, weights, layer, resize and scaling, for the JSON beside every number.
  nlohmann::json protocol() const;

 private:
  models::FidInceptionWeights weights_;
  InceptionLayer layer_;
  int64_t batch_;
  std::unique_ptr<models::FidInceptionV3> net_;
};

}  // namespace gantry::eval
