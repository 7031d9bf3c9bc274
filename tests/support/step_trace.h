#pragma once
// The per-step numbers of a training run (critic and generator losses, k), recorded through the run
// options' on_step callback, for tests that compare runs step by step.
#include <cstdint>
#include <functional>
#include <vector>

#include "train/gan_trainer.h"

namespace gantry::testing {

struct StepTrace {
  std::vector<double> critic, generator;
  std::vector<int64_t> k;

  // An on_step callback that appends each step to this trace (which must outlive the run).
  std::function<void(const train::GanStepStats&)> recorder() {
    return [this](const train::GanStepStats& s) {
      critic.push_back(s.critic_loss);
      generator.push_back(s.generator_loss);
      k.push_back(s.k);
    };
  }
};

}  // namespace gantry::testing
