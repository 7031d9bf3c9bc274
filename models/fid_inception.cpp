#include "models/fid_inception.h"

#include <cmath>
#include <map>
#include <sstream>
#include <string_view>

#include "engine/autograd/grad_mode.h"
#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace gantry::models {
namespace {

// The Mixed_* blocks: A (35x35), B (35 -> 17), C (17x17), D (17 -> 8) and E (8x8), whose last
// instance pools by max instead of average (a quirk of the TF graph that FID keeps).
enum class BlockKind { a, b, c, d, e_avg, e_max };

struct BlockSpec {
  BlockKind kind;
  const char* name;     // "Mixed_5b"
  const char* tf_name;  // "mixed"
  int64_t in_channels;
  int64_t width;  // A: the pool branch's channels; C: the 7x7 branches' inner channels (c7)
};

constexpr BlockSpec kBlocks[] = {
    {BlockKind::a, "Mixed_5b", "mixed", 192, 32},        {BlockKind::a, "Mixed_5c", "mixed_1", 256, 64},
    {BlockKind::a, "Mixed_5d", "mixed_2", 288, 64},      {BlockKind::b, "Mixed_6a", "mixed_3", 288, 0},
    {BlockKind::c, "Mixed_6b", "mixed_4", 768, 128},     {BlockKind::c, "Mixed_6c", "mixed_5", 768, 160},
    {BlockKind::c, "Mixed_6d", "mixed_6", 768, 160},     {BlockKind::c, "Mixed_6e", "mixed_7", 768, 192},
    {BlockKind::d, "Mixed_7a", "mixed_8", 768, 0},       {BlockKind::e_avg, "Mixed_7b", "mixed_9", 1280, 0},
    {BlockKind::e_max, "Mixed_7c", "mixed_10", 2048, 0},
};
constexpr int kBlocksThroughMixed7a = 9;

// Collects one block's (or the stem's) convolutions in the order torchvision registers them.
class ConvList {
 public:
  ConvList(std::string prefix, std::string tf_prefix, bool in_mixed_7a_extent)
      : prefix_(std::move(prefix)), tf_prefix_(std::move(tf_prefix)), in_extent_(in_mixed_7a_extent) {}

  void add(const std::string& name, const std::string& tf_name, int64_t in, int64_t out, Size2 kernel,
           Size2 stride = {1, 1}, Size2 padding = {0, 0}) {
    InceptionConvSpec s;
    s.name = prefix_.empty() ? name : prefix_ + "." + name;
    s.tf_name = tf_prefix_.empty() ? tf_name : tf_prefix_ + "/" + tf_name;
    s.in_channels = in;
    s.out_channels = out;
    s.kernel = kernel;
    s.stride = stride;
    s.padding = padding;
    s.in_mixed_7a_extent = in_extent_;
    convs_.push_back(std::move(s));
  }
  std::vector<InceptionConvSpec> take() { return std::move(convs_); }

 private:
  std::string prefix_, tf_prefix_;
  bool in_extent_;
  std::vector<InceptionConvSpec> convs_;
};

std::vector<InceptionConvSpec> stem_convs() {
  ConvList l("", "", true);
  l.add("Conv2d_1a_3x3", "conv", 3, 32, {3, 3}, {2, 2});
  l.add("Conv2d_2a_3x3", "conv_1", 32, 32, {3, 3});
  l.add("Conv2d_2b_3x3", "conv_2", 32, 64, {3, 3}, {1, 1}, {1, 1});
  l.add("Conv2d_3b_1x1", "conv_3", 64, 80, {1, 1});
  l.add("Conv2d_4a_3x3", "conv_4", 80, 192, {3, 3});
  return l.take();
}

std::vector<InceptionConvSpec> block_convs(const BlockSpec& b, bool in_extent) {
  ConvList l(b.name, b.tf_name, in_extent);
  const int64_t in = b.in_channels, w = b.width;
  switch (b.kind) {
    case BlockKind::a:
      l.add("branch1x1", "conv", in, 64, {1, 1});
      l.add("branch5x5_1", "tower/conv", in, 48, {1, 1});
      l.add("branch5x5_2", "tower/conv_1", 48, 64, {5, 5}, {1, 1}, {2, 2});
      l.add("branch3x3dbl_1", "tower_1/conv", in, 64, {1, 1});
      l.add("branch3x3dbl_2", "tower_1/conv_1", 64, 96, {3, 3}, {1, 1}, {1, 1});
      l.add("branch3x3dbl_3", "tower_1/conv_2", 96, 96, {3, 3}, {1, 1}, {1, 1});
      l.add("branch_pool", "tower_2/conv", in, w, {1, 1});
      break;
    case BlockKind::b:
      l.add("branch3x3", "conv", in, 384, {3, 3}, {2, 2});
      l.add("branch3x3dbl_1", "tower/conv", in, 64, {1, 1});
      l.add("branch3x3dbl_2", "tower/conv_1", 64, 96, {3, 3}, {1, 1}, {1, 1});
      l.add("branch3x3dbl_3", "tower/conv_2", 96, 96, {3, 3}, {2, 2});
      break;
    case BlockKind::c:
      l.add("branch1x1", "conv", in, 192, {1, 1});
      l.add("branch7x7_1", "tower/conv", in, w, {1, 1});
      l.add("branch7x7_2", "tower/conv_1", w, w, {1, 7}, {1, 1}, {0, 3});
      l.add("branch7x7_3", "tower/conv_2", w, 192, {7, 1}, {1, 1}, {3, 0});
      l.add("branch7x7dbl_1", "tower_1/conv", in, w, {1, 1});
      l.add("branch7x7dbl_2", "tower_1/conv_1", w, w, {7, 1}, {1, 1}, {3, 0});
      l.add("branch7x7dbl_3", "tower_1/conv_2", w, w, {1, 7}, {1, 1}, {0, 3});
      l.add("branch7x7dbl_4", "tower_1/conv_3", w, w, {7, 1}, {1, 1}, {3, 0});
      l.add("branch7x7dbl_5", "tower_1/conv_4", w, 192, {1, 7}, {1, 1}, {0, 3});
      l.add("branch_pool", "tower_2/conv", in, 192, {1, 1});
      break;
    case BlockKind::d:
      l.add("branch3x3_1", "tower/conv", in, 192, {1, 1});
      l.add("branch3x3_2", "tower/conv_1", 192, 320, {3, 3}, {2, 2});
      l.add("branch7x7x3_1", "tower_1/conv", in, 192, {1, 1});
      l.add("branch7x7x3_2", "tower_1/conv_1", 192, 192, {1, 7}, {1, 1}, {0, 3});
      l.add("branch7x7x3_3", "tower_1/conv_2", 192, 192, {7, 1}, {1, 1}, {3, 0});
      l.add("branch7x7x3_4", "tower_1/conv_3", 192, 192, {3, 3}, {2, 2});
      break;
    case BlockKind::e_avg:
    case BlockKind::e_max:
      l.add("branch1x1", "conv", in, 320, {1, 1});
      l.add("branch3x3_1", "tower/conv", in, 384, {1, 1});
      l.add("branch3x3_2a", "tower/mixed/conv", 384, 384, {1, 3}, {1, 1}, {0, 1});
      l.add("branch3x3_2b", "tower/mixed/conv_1", 384, 384, {3, 1}, {1, 1}, {1, 0});
      l.add("branch3x3dbl_1", "tower_1/conv", in, 448, {1, 1});
      l.add("branch3x3dbl_2", "tower_1/conv_1", 448, 384, {3, 3}, {1, 1}, {1, 1});
      l.add("branch3x3dbl_3a", "tower_1/mixed/conv", 384, 384, {1, 3}, {1, 1}, {0, 1});
      l.add("branch3x3dbl_3b", "tower_1/mixed/conv_1", 384, 384, {3, 1}, {1, 1}, {1, 0});
      l.add("branch_pool", "tower_2/conv", in, 192, {1, 1});
      break;
  }
  return l.take();
}

// conv + folded BatchNorm + ReLU; its weights are set by a weight loader.
class FoldedConv : public nn::Module {
 public:
  FoldedConv(const InceptionConvSpec& spec, Device device) : spec_(spec) {
    weight_ = register_parameter("weight", zeros(spec.weight_shape(), DType::f32, device));
    bias_ = register_parameter("bias", zeros({spec.out_channels}, DType::f32, device));
  }
  Tensor run(const Tensor& x, const InceptionLayerObserver& observer) const {
    Tensor y = conv2d_relu(x, weight_, bias_, spec_.stride, spec_.padding);
    if (observer) observer(spec_.name, y);
    return y;
  }

 private:
  InceptionConvSpec spec_;
  Tensor weight_, bias_;
};

// fc: Linear(2048, 1008), registered as a child so its names read "fc.weight" and "fc.bias".
class InceptionFc : public nn::Module {
 public:
  explicit InceptionFc(Device device) {
    weight_ = register_parameter("weight", zeros({kInceptionClasses, kInceptionFeatureDim}, DType::f32, device));
    bias_ = register_parameter("bias", zeros({kInceptionClasses}, DType::f32, device));
  }
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }

 private:
  Tensor weight_, bias_;
};

// 3x3 stride-1 average pooling that divides by the valid pixels only (TF's SAME average pooling).
Tensor fid_avg_pool(const Tensor& x) { return avg_pool2d(x, {3, 3}, Size2{1, 1}, {1, 1}, false); }
Tensor global_average(const Tensor& x) { return mean(x, {2, 3}); }

}  // namespace

class InceptionBlock : public nn::Module {
 public:
  InceptionBlock(const BlockSpec& spec, Device device) : kind_(spec.kind), name_(spec.name) {
    for (const InceptionConvSpec& c : block_convs(spec, true)) {
      const std::string branch = c.name.substr(name_.size() + 1);
      convs_[branch] = register_module(branch, std::make_shared<FoldedConv>(c, device));
    }
  }

  Tensor forward_observed(const Tensor& x, const InceptionLayerObserver& obs) const {
    auto c = [&](const char* branch, const Tensor& in) { return convs_.at(branch)->run(in, obs); };
    Tensor y;
    switch (kind_) {
      case BlockKind::a:
        y = cat({c("branch1x1", x), c("branch5x5_2", c("branch5x5_1", x)),
                 c("branch3x3dbl_3", c("branch3x3dbl_2", c("branch3x3dbl_1", x))), c("branch_pool", fid_avg_pool(x))},
                1);
        break;
      case BlockKind::b:
        y = cat({c("branch3x3", x), c("branch3x3dbl_3", c("branch3x3dbl_2", c("branch3x3dbl_1", x))),
                 max_pool2d(x, {3, 3}, Size2{2, 2})},
                1);
        break;
      case BlockKind::c:
        y = cat(
            {c("branch1x1", x), c("branch7x7_3", c("branch7x7_2", c("branch7x7_1", x))),
             c("branch7x7dbl_5", c("branch7x7dbl_4", c("branch7x7dbl_3", c("branch7x7dbl_2", c("branch7x7dbl_1", x))))),
             c("branch_pool", fid_avg_pool(x))},
            1);
        break;
      case BlockKind::d:
        y = cat({c("branch3x3_2", c("branch3x3_1", x)),
                 c("branch7x7x3_4", c("branch7x7x3_3", c("branch7x7x3_2", c("branch7x7x3_1", x)))),
                 max_pool2d(x, {3, 3}, Size2{2, 2})},
                1);
        break;
      case BlockKind::e_avg:
      case BlockKind::e_max: {
        // Braced lists evaluate left to right, so the observer sees the branches in torchvision's order.
        const Tensor b1 = c("branch1x1", x);
        const Tensor t = c("branch3x3_1", x);
        const Tensor t_a = c("branch3x3_2a", t), t_b = c("branch3x3_2b", t);
        const Tensor d = c("branch3x3dbl_2", c("branch3x3dbl_1", x));
        const Tensor d_a = c("branch3x3dbl_3a", d), d_b = c("branch3x3dbl_3b", d);
        // Max pooling's padding never wins, like TF's SAME max pooling.
        const Tensor pooled = kind_ == BlockKind::e_max ? max_pool2d(x, {3, 3}, Size2{1, 1}, {1, 1}) : fid_avg_pool(x);
        y = cat({b1, t_a, t_b, d_a, d_b, c("branch_pool", pooled)}, 1);
        break;
      }
    }
    if (obs) obs(name_, y);
    return y;
  }

 private:
  BlockKind kind_;
  std::string name_;
  std::map<std::string, std::shared_ptr<FoldedConv>> convs_;
};

const char* inception_extent_name(InceptionExtent extent) {
  return extent == InceptionExtent::full ? "full" : "through Mixed_7a";
}

std::string InceptionConvSpec::dat_basename() const {
  std::string s = tf_name;
  for (char& ch : s)
    if (ch == '/') ch = '_';
  return s;
}

const std::vector<InceptionConvSpec>& fid_inception_convs() {
  static const std::vector<InceptionConvSpec> all = [] {
    std::vector<InceptionConvSpec> v = stem_convs();
    for (int i = 0; i < static_cast<int>(std::size(kBlocks)); ++i)
      for (InceptionConvSpec& c : block_convs(kBlocks[i], i < kBlocksThroughMixed7a)) v.push_back(std::move(c));
    return v;
  }();
  return all;
}

FidInceptionV3::FidInceptionV3(InceptionExtent extent, Device device) : extent_(extent) {
  for (const InceptionConvSpec& c : stem_convs())
    stem_.push_back(register_module(c.name, std::make_shared<FoldedConv>(c, device)));
  const int blocks = extent == InceptionExtent::full ? static_cast<int>(std::size(kBlocks)) : kBlocksThroughMixed7a;
  for (int i = 0; i < blocks; ++i)
    blocks_.push_back(register_module(kBlocks[i].name, std::make_shared<InceptionBlock>(kBlocks[i], device)));
  if (extent == InceptionExtent::full) {
    const auto fc = register_module("fc", std::make_shared<InceptionFc>(device));
    fc_weight_ = fc->weight();
    fc_bias_ = fc->bias();
  }
  eval();
}

FidInceptionV3::~FidInceptionV3() = default;

Tensor FidInceptionV3::preprocess(const Tensor& images) {
  const char* what = "the FID Inception network";
  if (!images.defined() || images.dim() != 4)
    throw Error(std::string(what) + " takes images [N, 3, H, W] (or [N, 1, H, W]), got " +
                (images.defined() ? shape_str(images.shape()) : std::string("an undefined tensor")));
  const int64_t channels = images.shape()[1];
  if (channels != 1 && channels != 3)
    throw Error(std::string(what) + " takes RGB or grey images (1 or 3 channels), got " + std::to_string(channels) +
                " channels in " + shape_str(images.shape()));
  if (images.numel() == 0) throw Error(std::string(what) + " got no images: " + shape_str(images.shape()));
  Tensor x = images.to(DType::f32);
  const double lo = amin(x).item<double>(), hi = amax(x).item<double>();
  if (!std::isfinite(lo) || !std::isfinite(hi))
    throw Error(std::string(what) + " got non-finite pixel values (NaN or infinity)");
  if (lo < 0.0 || hi > 1.0) {
    std::ostringstream m;
    m << what << " takes pixel values in [0, 1], got values in [" << lo << ", " << hi << "]";
    if (lo < 0.0 && lo >= -1.0) m << " (images in [-1, 1]? map them with (x + 1) / 2)";
    if (hi > 1.0 && hi <= 255.0) m << " (images in [0, 255]? divide them by 255)";
    throw Error(m.str());
  }
  if (channels == 1) x = x.expand({x.shape()[0], 3, x.shape()[2], x.shape()[3]}).contiguous();
  const Size2 size{kInceptionInputSize, kInceptionInputSize};
  if (x.shape()[2] != size[0] || x.shape()[3] != size[1]) x = interpolate_bilinear(x, size, false);
  return sub(mul(x, 2.0), 1.0);
}

InceptionFeatures FidInceptionV3::features(const Tensor& images, const InceptionLayerObserver& observer) {
  NoGradGuard no_grad;
  const Device device = named_parameters().front().second.device();
  Tensor x = preprocess(images.to(device));
  if (observer) observer("input", x);
  auto stem = [&](int i, const Tensor& in) { return static_cast<const FoldedConv&>(*stem_[i]).run(in, observer); };
  x = stem(2, stem(1, stem(0, x)));
  x = max_pool2d(x, {3, 3}, Size2{2, 2});
  if (observer) observer("maxpool1", x);
  x = stem(4, stem(3, x));
  x = max_pool2d(x, {3, 3}, Size2{2, 2});
  if (observer) observer("maxpool2", x);
  InceptionFeatures out;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    x = blocks_[i]->forward_observed(x, observer);
    const std::string_view name = kBlocks[i].name;
    if (name == "Mixed_6e") out.mixed_6e_pool = global_average(x);
    if (name == "Mixed_7a") out.mixed_7a_pool = global_average(x);
  }
  if (extent_ == InceptionExtent::full) {
    out.pool3 = global_average(x);
    out.logits_unbiased = matmul(out.pool3, fc_weight_.transpose(0, 1));
    out.logits = add(out.logits_unbiased, fc_bias_);
  }
  return out;
}

}  // namespace gantry::models
