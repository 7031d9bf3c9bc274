#pragma once
// The run state of a GAN training as one safetensors file: generator and critic weights, both
// optimiser states, and in the metadata the RNG state, the update policy's state (top-k schedule)
// and the step count. Saved atomically; restoring it continues the run bit-identically.
#include <cstdint>
#include <string>

#include "engine/io/safetensors.h"
#include "engine/nn/module.h"
#include "engine/optim/optimizer.h"
#include "engine/random/generator.h"
#include "train/update_policy.h"

namespace gantry::train {

// Non-owning views of everything a checkpoint saves and restores.
struct RunState {
  nn::Module* generator = nullptr;
  nn::Module* critic = nullptr;
  optim::Optimizer* generator_optimizer = nullptr;
  optim::Optimizer* critic_optimizer = nullptr;
  Generator* rng = nullptr;
  GeneratorUpdatePolicy* policy = nullptr;
};

void save_checkpoint(const std::string& path, const RunState& state, int64_t step);
// Restores into `state` and returns the saved step. Throws gantry::Error naming the file when it is
// missing, truncated or does not match the models.
int64_t load_checkpoint(const std::string& path, const RunState& state);
// The same from a checkpoint's parsed tensors and metadata; errors name `source` (the file).
int64_t restore_checkpoint(const io::TensorFile& file, const std::string& source, const RunState& state);

}  // namespace gantry::train
