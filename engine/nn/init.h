#pragma once
// Parameter initialisers with PyTorch's formulas (torch.nn.init), drawing from an explicit
// Generator. Each fills `t`'s storage in place (so a module's parameter handle can be passed
// directly, e.g. init::orthogonal_(linear.weight(), gen)) without recording autograd history, and
// returns the handle.
// Fans follow PyTorch: for a tensor [out, in, k...], fan_in = in * prod(k), fan_out = out * prod(k).
#include <string>
#include <utility>

#include "engine/core/tensor.h"
#include "engine/random/generator.h"

namespace gantry::nn::init {

enum class FanMode { fan_in, fan_out };

// (fan_in, fan_out) of a tensor with at least 2 dims.
std::pair<int64_t, int64_t> fans(const Tensor& t);
// The recommended gain of a nonlinearity: "linear", "conv", "sigmoid" -> 1, "tanh" -> 5/3,
// "relu" -> sqrt(2), "leaky_relu" -> sqrt(2 / (1 + param^2)).
double calculate_gain(const std::string& nonlinearity, double param = 0.01);

Tensor uniform_(const Tensor& t, double lo, double hi, Generator& gen);
Tensor normal_(const Tensor& t, double mean, double std, Generator& gen);
Tensor zeros_(const Tensor& t);
Tensor ones_(const Tensor& t);
Tensor xavier_uniform_(const Tensor& t, Generator& gen, double gain = 1.0);
Tensor xavier_normal_(const Tensor& t, Generator& gen, double gain = 1.0);
// `a` is the negative slope used when nonlinearity is "leaky_relu".
Tensor kaiming_uniform_(const Tensor& t, Generator& gen, double a = 0.0, FanMode mode = FanMode::fan_in,
                         const std::string& nonlinearity = "leaky_relu");
Tensor kaiming_normal_(const Tensor& t, Generator& gen, double a = 0.0, FanMode mode = FanMode::fan_in,
                        const std::string& nonlinearity = "leaky_relu");
// A (semi-)orthogonal matrix from the QR decomposition of a Gaussian matrix (computed in double),
// scaled by `gain`; tensors with more than 2 dims are treated as [size(0), rest].
Tensor orthogonal_(const Tensor& t, Generator& gen, double gain = 1.0);

}  // namespace gantry::nn::init
