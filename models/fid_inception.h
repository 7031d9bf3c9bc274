#pragma once
// The Inception-v3 of FID, built the way pytorch-fid builds it: torchvision's Inception3 skeleton with
// the FID patches of the TensorFlow graph inception-2015-12-05 (average pooling that does not count
// padding in the A, C and first E blocks, max pooling in the last E block), input resized to 299x299
// by half-pixel bilinear interpolation and scaled by 2x - 1, 2048-d pool3 features and 1008 logits.
//
// Every BasicConv2d (convolution without bias, BatchNorm with eps 0.001 in inference mode, ReLU) is
// held with its BatchNorm folded in, as a convolution with bias followed by ReLU: the folded weights
// are the network's parameters, so a module here is "<pytorch prefix>.weight" / ".bias" (OIHW), plus
// "fc.weight" [1008, 2048] and "fc.bias". Weights come from a file (models/fid_inception_weights.h);
// the constructor leaves them zero.
//
// The extent says how far the network is built: the whole network, or only through Mixed_7a, which
// is what the published per-layer weights without the full file (92 of its 94 convolutions) can run.
// Everything runs in float32, in inference mode, without autograd history.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/nn/module.h"
#include "engine/ops/nn_ops.h"

namespace gantry::models {

enum class InceptionExtent { through_mixed_7a, full };
const char* inception_extent_name(InceptionExtent extent);  // "through Mixed_7a", "full"

// One BasicConv2d of the network, as the weight files name it.
struct InceptionConvSpec {
  std::string name;     // pytorch-fid's module prefix: "Conv2d_1a_3x3", "Mixed_5b.branch5x5_2"
  std::string tf_name;  // the TensorFlow graph node: "conv", "mixed/tower/conv_1"
  int64_t in_channels = 0, out_channels = 0;
  Size2 kernel{1, 1}, stride{1, 1}, padding{0, 0};
  bool in_mixed_7a_extent = true;  // false for the Mixed_7b and Mixed_7c convolutions

  // The basename of the per-layer weight files: tf_name with '/' replaced by '_'.
  std::string dat_basename() const;
  Shape weight_shape() const { return {out_channels, in_channels, kernel[0], kernel[1]}; }
};

// All 94 convolutions in forward order.
const std::vector<InceptionConvSpec>& fid_inception_convs();
constexpr int64_t kInceptionFeatureDim = 2048;  // pool3
constexpr int64_t kInceptionClasses = 1008;     // the TF label map's classes, fc's outputs
constexpr int64_t kInceptionInputSize = 299;

// Called with every layer's output during a forward pass, for per-layer checks: "input" (after the
// resize and 2x - 1), each convolution's output after ReLU under its pytorch-fid prefix, "maxpool1",
// "maxpool2", and each block's output ("Mixed_5b" ... "Mixed_7c").
using InceptionLayerObserver = std::function<void(const std::string& name, const Tensor& output)>;

// What one forward pass gives, per image, f32 on the network's device. The full-extent features are
// undefined for a network built through Mixed_7a.
struct InceptionFeatures {
  Tensor mixed_6e_pool;    // [N, 768]: Mixed_6e's output averaged over its 17x17 positions
  Tensor mixed_7a_pool;    // [N, 1280]: Mixed_7a's output averaged over its 8x8 positions
  Tensor pool3;            // [N, 2048]: FID's features
  Tensor logits;           // [N, 1008]: fc(pool3) with its bias
  Tensor logits_unbiased;  // [N, 1008]: pool3 fc.weight^T, the Inception Score's logits
};

class InceptionBlock;  // one of the Mixed_* blocks (fid_inception.cpp)

class FidInceptionV3 : public nn::Module {
 public:
  explicit FidInceptionV3(InceptionExtent extent = InceptionExtent::full, Device device = kCPU);
  ~FidInceptionV3() override;

  InceptionExtent extent() const { return extent_; }

  // images [N, 3, H, W] (or [N, 1, H, W], replicated to RGB like PIL's convert("RGB")) in [0, 1], any
  // size. Throws naming the problem for another rank or channel count, values outside [0, 1] (most
  // often images in [-1, 1] or [0, 255]) or non-finite values.
  InceptionFeatures features(const Tensor& images, const InceptionLayerObserver& observer = {});
  // The network's input: the checked images resized to 299x299 and scaled to [-1, 1].
  static Tensor preprocess(const Tensor& images);

 private:
  InceptionExtent extent_;
  std::vector<std::shared_ptr<nn::Module>> stem_;        // the five stem convolutions
  std::vector<std::shared_ptr<InceptionBlock>> blocks_;  // Mixed_5b ... (through 7a or 7c)
  Tensor fc_weight_, fc_bias_;
};

}  // namespace gantry::models
