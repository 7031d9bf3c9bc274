#pragma once
// BatchNorm1d/2d and LayerNorm with torch.nn's parameter and buffer names and initial values:
// BatchNorm: weight = 1, bias = 0 (when affine), buffers running_mean = 0, running_var = 1 and
// num_batches_tracked = 0 (int64 scalar; when track_running_stats). In training mode the batch
// statistics normalise and update the running ones (momentum, unbiased variance); in eval mode the
// running ones normalise. momentum = nullopt gives PyTorch's cumulative average (factor
// 1/num_batches_tracked), which with reset_running_stats() computes BigGAN's standing statistics.
// LayerNorm: weight = 1, bias = 0 of normalized_shape (when elementwise_affine).
#include <optional>
#include <string>

#include "engine/nn/module.h"

namespace gantry::nn {

struct BatchNormOptions {
  double eps = 1e-5;
  std::optional<double> momentum = 0.1;
  bool affine = true;
  bool track_running_stats = true;
};

// The state and forward pass shared by BatchNorm1d and BatchNorm2d (they differ in the input ranks
// they accept).
class BatchNormBase : public Module {
 public:
  // running_mean = 0, running_var = 1, num_batches_tracked = 0.
  void reset_running_stats();

  int64_t num_features() const { return num_features_; }
  const BatchNormOptions& options() const { return options_; }
  const Tensor& weight() const { return weight_; }  // undefined without affine
  const Tensor& bias() const { return bias_; }
  const Tensor& running_mean() const { return running_mean_; }  // undefined without running stats
  const Tensor& running_var() const { return running_var_; }
  const Tensor& num_batches_tracked() const { return num_batches_tracked_; }

 protected:
  BatchNormBase(std::string layer, int64_t num_features, BatchNormOptions options, DType dtype, Device device);
  // Checks that x is [N, num_features, ...] with an accepted rank (`layout` describes them) and runs
  // batch_norm in the module's mode.
  Tensor normalise(const Tensor& x, bool rank_ok, const char* layout);

 private:
  std::string layer_;
  int64_t num_features_;
  BatchNormOptions options_;
  Tensor weight_, bias_, running_mean_, running_var_, num_batches_tracked_;
};

// Input [N, C] or [N, C, L].
class BatchNorm1d : public BatchNormBase {
 public:
  explicit BatchNorm1d(int64_t num_features, BatchNormOptions options = {}, DType dtype = DType::f32,
                       Device device = kCPU)
      : BatchNormBase("BatchNorm1d", num_features, options, dtype, device) {}
  Tensor forward(const Tensor& x) override;
};

// Input [N, C, H, W].
class BatchNorm2d : public BatchNormBase {
 public:
  explicit BatchNorm2d(int64_t num_features, BatchNormOptions options = {}, DType dtype = DType::f32,
                       Device device = kCPU)
      : BatchNormBase("BatchNorm2d", num_features, options, dtype, device) {}
  Tensor forward(const Tensor& x) override;
};

class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true,
                     DType dtype = DType::f32, Device device = kCPU);

  Tensor forward(const Tensor& x) override;

  const Shape& normalized_shape() const { return normalized_shape_; }
  const Tensor& weight() const { return weight_; }  // undefined without elementwise_affine
  const Tensor& bias() const { return bias_; }

 private:
  Shape normalized_shape_;
  double eps_;
  Tensor weight_, bias_;
};

}  // namespace gantry::nn
