#pragma once
// Everything a MoG training checkpoint restores into, with small models (the run-state metadata
// does not depend on their size), and a valid checkpoint of it: for tests and the fuzz harness of
// the checkpoint metadata. Header-only, so the fuzz build uses it without the test support library.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "engine/io/safetensors.h"
#include "engine/optim/adam.h"
#include "models/mog_mlp.h"
#include "train/checkpoint.h"
#include "train/topk_schedule.h"
#include "train/update_policy.h"

namespace gantry::testing {

struct SmallMogRun {
  static constexpr int64_t kBatch = 64;
  static constexpr double kNu = 48;

  Generator rng{0};
  models::MogMlpOptions arch{.latent_dim = 2, .hidden = 4, .hidden_layers = 1, .data_dim = 2};
  std::shared_ptr<nn::Sequential> generator = models::make_mog_generator(arch, rng);
  std::shared_ptr<nn::Sequential> critic = models::make_mog_critic(arch, rng);
  optim::Adam generator_optimizer{generator->parameters()};
  optim::Adam critic_optimizer{critic->parameters()};
  train::TopKPolicy policy{train::TopKSchedule(kBatch, 0.99, kNu, 20), train::SelectionTarget::generator};
  train::RunState state{generator.get(), critic.get(), &generator_optimizer, &critic_optimizer, &rng, &policy, {}};

  // This run saved at `step` (through a scratch file) and read back.
  io::TensorFile checkpoint(int64_t step) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("gantry_small_mog_run_" + std::to_string(::getpid()) + ".safetensors");
    train::save_checkpoint(path.string(), state, step, train::RunIdentity{nlohmann::json::object(), "small-mog-run"});
    io::TensorFile file = io::load_safetensors(path.string());
    std::filesystem::remove(path);
    return file;
  }
};

}  // namespace gantry::testing
