#pragma once
// The uniform interface of the image GAN models (DCGAN, WGAN critics, SNGAN, SAGAN), so trainers call
// every generator and critic the same way whether it is class-conditional or not:
//
//   generate(z [N, latent_dim], labels)  -> images [N, channels, S, S] in (-1, 1)
//   score(x [N, channels, S, S], labels) -> raw critic scores [N] (higher = more real; no sigmoid)
//
// labels are int64 class indices [N] in [0, num_classes) for a conditional model and must be
// undefined (Tensor()) for an unconditional one; anything else is an error naming the model.
#include <cstdint>
#include <string>

#include "engine/nn/module.h"

namespace gantry::models {

class ImageGenerator : public nn::Module {
 public:
  virtual Tensor generate(const Tensor& z, const Tensor& labels) = 0;
  virtual int64_t num_classes() const = 0;  // 0: unconditional
};

class ImageCritic : public nn::Module {
 public:
  virtual Tensor score(const Tensor& x, const Tensor& labels) = 0;
  virtual int64_t num_classes() const = 0;
};

// Checks `labels` for a model with `num_classes` classes (0: unconditional, labels must be undefined)
// and a batch of n samples (int64 [n]); errors start with `model`. The class range is checked by the
// layers that look the labels up.
void check_labels(const std::string& model, const Tensor& labels, int64_t num_classes, int64_t n);

// "an undefined tensor" or the shape, for error messages.
std::string shape_or_undefined(const Tensor& t);

// Runs fn(); a gantry::Error from a layer inside gets "<context>: " in front, so the message names
// the model or block the failing layer belongs to.
template <typename Fn>
Tensor in_context(const std::string& context, Fn&& fn) {
  try {
    return fn();
  } catch (const Error& e) {
    throw Error(context + ": " + e.what());
  }
}

}  // namespace gantry::models
