#pragma once
// The feature networks that core-set selection on images measures distances in (Small-GAN, Sec. 3.2):
// each maps a batch of images to one feature vector per image. The embedding cache
// (train/image/embedding_cache.h) runs one over the whole training set once, so an embedder's cost
// is paid at the start of a run, never per step. A new network is one entry in the factory table of
// image_embedder.cpp.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/tensor.h"
#include "eval/inception_features.h"

namespace gantry::image {

class ImageEmbedder {
 public:
  virtual ~ImageEmbedder();
  // Names the network, the layer and a hash of the weights: two embedders with the same identity give
  // the same features, so a cache keyed on it is valid for both.
  virtual std::string identity() const = 0;
  virtual int64_t dim() const = 0;
  // images: [N, C, H, W] float in [0, 1] -> [N, dim()] f32 on the CPU.
  virtual Tensor embed(const Tensor& images) = 0;
};

// The flattened pixels (no network): Table 6's ablation B.
class PixelEmbedder final : public ImageEmbedder {
 public:
  PixelEmbedder(int64_t channels, int64_t height, int64_t width);
  std::string identity() const override;
  int64_t dim() const override { return channels_ * height_ * width_; }
  Tensor embed(const Tensor& images) override;

 private:
  int64_t channels_, height_, width_;
};

struct ImageEmbedderOptions;

// A layer of the FID Inception network (eval/inception_features.h): pool3 (Table 6's ablation C with
// the full weights) or an average-pooled earlier block that the published per-layer weights run.
class InceptionEmbedder final : public ImageEmbedder {
 public:
  InceptionEmbedder(eval::InceptionLayer layer, const ImageEmbedderOptions& options);
  std::string identity() const override;
  int64_t dim() const override { return extractor_.dim(); }
  Tensor embed(const Tensor& images) override;

 private:
  eval::InceptionFeatureExtractor extractor_;
};

// What an embedder is built for: the images' shape, where its weights are (for networks that need
// them) and the device it runs on.
struct ImageEmbedderOptions {
  int64_t channels = 3, height = 32, width = 32;
  std::string weights;  // "": the network's default weights file, if it has one
  Device device = kCPU;
};

struct ImageEmbedderEntry {
  std::string name;         // the --coreset-embedding value
  std::string description;  // one line for --help and docs
  bool available = false;   // known but not built into this version: refused with a clear message
};

// Every known embedder name, available or not, in a stable order.
const std::vector<ImageEmbedderEntry>& image_embedders();
// Throws gantry::Error naming `option` for an unknown name (listing the known ones) or one that is not
// available yet.
void check_image_embedder_name(const std::string& name, const char* option = "--coreset-embedding");
std::unique_ptr<ImageEmbedder> make_image_embedder(const std::string& name, const ImageEmbedderOptions& options);

}  // namespace gantry::image
