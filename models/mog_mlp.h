#pragma once
// The mixture-of-Gaussians MLPs (top-k paper Sec. 4.1, after Azadi et al. 2018): 4-layer ReLU MLPs
// with 256 hidden units. Generator z(2) -> 256 -> 256 -> 256 -> 2; critic 2 -> 256 -> 256 -> 256 -> 1
// (a raw score, higher = more real). Both are nn::Sequential, so state dicts use PyTorch's names
// ("0.weight", "2.bias", ...).
#include <cstdint>
#include <memory>

#include "engine/nn/sequential.h"
#include "engine/random/generator.h"

namespace gantry::models {

struct MogMlpOptions {
  int64_t latent_dim = 2;
  int64_t hidden = 256;
  int64_t hidden_layers = 3;  // hidden Linear+ReLU blocks; one more Linear maps to the output
  int64_t data_dim = 2;
};

// in -> hidden (x hidden_layers, each followed by ReLU) -> out.
std::shared_ptr<nn::Sequential> make_relu_mlp(int64_t in, int64_t hidden, int64_t hidden_layers, int64_t out,
                                              Generator& gen);
std::shared_ptr<nn::Sequential> make_mog_generator(const MogMlpOptions& options, Generator& gen);
std::shared_ptr<nn::Sequential> make_mog_critic(const MogMlpOptions& options, Generator& gen);

}  // namespace gantry::models
