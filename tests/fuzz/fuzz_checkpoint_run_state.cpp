// The run-state metadata of a GAN checkpoint ("gantry_run_state": format, step, RNG state, top-k
// schedule) as train/checkpoint.cpp restores it. The tensors are a valid checkpoint of small MoG
// models, so every input reaches the metadata parsing; the input is the metadata's JSON text.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "engine/optim/adam.h"
#include "models/mog_mlp.h"
#include "tests/fuzz/harness_support.h"
#include "train/checkpoint.h"
#include "train/topk_schedule.h"
#include "train/update_policy.h"

namespace {

using namespace gantry;

// What a MoG training restores into (the models shrunk: the metadata does not depend on their size).
struct Run {
  Generator rng{0};
  models::MogMlpOptions arch{.latent_dim = 2, .hidden = 4, .hidden_layers = 1, .data_dim = 2};
  std::shared_ptr<nn::Sequential> generator = models::make_mog_generator(arch, rng);
  std::shared_ptr<nn::Sequential> critic = models::make_mog_critic(arch, rng);
  optim::Adam generator_optimizer{generator->parameters()};
  optim::Adam critic_optimizer{critic->parameters()};
  train::TopKPolicy policy{train::TopKSchedule(64, 0.99, 48, 20), train::SelectionTarget::generator};
  train::RunState state{generator.get(), critic.get(), &generator_optimizer, &critic_optimizer, &rng, &policy};
  io::TensorFile checkpoint;  // a valid checkpoint of this run; its metadata is replaced per input

  Run() {
    const auto path = std::filesystem::temp_directory_path() /
                      ("gantry_fuzz_checkpoint_" + std::to_string(getpid()) + ".safetensors");
    train::save_checkpoint(path.string(), state, 7);
    checkpoint = io::load_safetensors(path.string());
    std::filesystem::remove(path);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Run run;
  run.checkpoint.metadata["gantry_run_state"] = fuzz::as_string(data, size);
  const auto step =
      fuzz::accepted([&] { return train::restore_checkpoint(run.checkpoint, "fuzz.safetensors", run.state); });
  if (!step) return 0;
  // An accepted state is a state the run could be in: saving it keeps what was restored.
  fuzz::require(run.policy.schedule().k() >= 1 && run.policy.schedule().k() <= 64, "restored k is in [1, batch]");
  fuzz::require(run.policy.schedule().generator_steps() >= 0, "restored step count is not negative");
  return 0;
}
