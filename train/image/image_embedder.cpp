#include "train/image/image_embedder.h"

#include <functional>

#include "engine/core/error.h"

namespace gantry::image {

ImageEmbedder::~ImageEmbedder() = default;

PixelEmbedder::PixelEmbedder(int64_t channels, int64_t height, int64_t width)
    : channels_(channels), height_(height), width_(width) {
  GANTRY_CHECK(channels >= 1 && height >= 1 && width >= 1, "PixelEmbedder: image shape must be positive, got ",
               channels, "x", height, "x", width);
}

std::string PixelEmbedder::identity() const {
  return "pixels " + std::to_string(channels_) + "x" + std::to_string(height_) + "x" + std::to_string(width_) +
         " (flattened, in [0, 1]; no network, no weights)";
}

Tensor PixelEmbedder::embed(const Tensor& images) {
  GANTRY_CHECK(images.defined() && images.dim() == 4 && images.size(1) == channels_ && images.size(2) == height_ &&
                   images.size(3) == width_,
               "PixelEmbedder: expected images [N, ", channels_, ", ", height_, ", ", width_, "], got ",
               images.defined() ? shape_str(images.shape()) : std::string("an undefined tensor"));
  return images.to(kCPU).to(DType::f32).contiguous().reshape({images.size(0), dim()});
}

InceptionEmbedder::InceptionEmbedder(eval::InceptionLayer layer, const ImageEmbedderOptions& options)
    : extractor_(eval::load_weights_for_layer(options.weights, layer, "--coreset-weights"), layer, options.device) {}

std::string InceptionEmbedder::identity() const {
  const eval::InceptionLayerInfo& l = extractor_.layer();
  return std::string("FID Inception-v3 ") + l.name + " (" + std::to_string(l.dim) + "-d), folded weights " +
         extractor_.weights().digest;
}

Tensor InceptionEmbedder::embed(const Tensor& images) { return extractor_.features(images); }

namespace {

std::unique_ptr<ImageEmbedder> inception(eval::InceptionLayer layer, const ImageEmbedderOptions& o) {
  return std::make_unique<InceptionEmbedder>(layer, o);
}

using Factory = std::function<std::unique_ptr<ImageEmbedder>(const ImageEmbedderOptions&)>;

struct Registered {
  ImageEmbedderEntry entry;
  Factory make;  // empty: not available in this version
};

// An entry without a factory is known but refused with the reason, not as a typo.
const std::vector<Registered>& registry() {
  static const std::vector<Registered> table = {
      {{"pixels", "the flattened pixels in [0, 1] (no network)", true},
       [](const ImageEmbedderOptions& o) { return std::make_unique<PixelEmbedder>(o.channels, o.height, o.width); }},
      {{"inception-pool3", "FID Inception-v3 pool3 (2048), the full FID weights", true},
       [](const ImageEmbedderOptions& o) { return inception(eval::InceptionLayer::pool3, o); }},
      {{"inception-mixed_7a", "Inception-v3 Mixed_7a, average-pooled (1280); the per-layer weights suffice", true},
       [](const ImageEmbedderOptions& o) { return inception(eval::InceptionLayer::mixed_7a, o); }},
      {{"inception-mixed_6e", "Inception-v3 Mixed_6e, average-pooled (768); the per-layer weights suffice", true},
       [](const ImageEmbedderOptions& o) { return inception(eval::InceptionLayer::mixed_6e, o); }},
  };
  return table;
}

const Registered* find(const std::string& name) {
  for (const Registered& r : registry())
    if (r.entry.name == name) return &r;
  return nullptr;
}

}  // namespace

const std::vector<ImageEmbedderEntry>& image_embedders() {
  static const std::vector<ImageEmbedderEntry> entries = [] {
    std::vector<ImageEmbedderEntry> e;
    for (const Registered& r : registry()) e.push_back(r.entry);
    return e;
  }();
  return entries;
}

void check_image_embedder_name(const std::string& name, const char* option) {
  const Registered* r = find(name);
  if (!r) {
    std::string known;
    for (const Registered& k : registry()) known += (known.empty() ? "" : ", ") + k.entry.name;
    GANTRY_FAIL(option, ": unknown embedding '", name, "' (expected one of ", known, ")");
  }
  if (!r->make) {
    std::string available;
    for (const Registered& k : registry())
      if (k.make) available += (available.empty() ? "" : ", ") + k.entry.name;
    GANTRY_FAIL(option, ": the embedding '", name, "' (", r->entry.description,
                ") is not available in this version of gantry yet; available: ", available);
  }
}

std::unique_ptr<ImageEmbedder> make_image_embedder(const std::string& name, const ImageEmbedderOptions& options) {
  check_image_embedder_name(name, "make_image_embedder");
  return find(name)->make(options);
}

}  // namespace gantry::image
