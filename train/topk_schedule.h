#pragma once
// The top-k schedule (top-k paper, Sec. 3; pinned in DESIGN.md): k starts at the batch size B and is
// kept as a real number; after every `decay_every` generator steps k <- max(gamma * k, nu); a batch
// uses floor(k) samples. nu is an absolute count or a fraction of B.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace gantry::train {

struct TopKScheduleOptions {
  double gamma = 0.99;
  double nu = 0.75;  // a fraction of B (< 1) or an absolute count (>= 1); see resolve_nu()
  int64_t decay_every = 2000;
};

// nu given as a fraction of B (0 < nu < 1, e.g. 0.75) or an absolute count (an integer >= 1, e.g. 192).
// Throws gantry::Error when the result is not in [1, B] or is fractional but >= 1.
double resolve_nu(double nu, int64_t batch_size);
// Parses "0.75" or "192" (as the command line gives it) and resolves it against B.
double parse_nu(const std::string& text, int64_t batch_size);

class TopKSchedule {
 public:
  // Throws unless batch_size >= 1, 0 < gamma <= 1, 1 <= nu_count <= batch_size, decay_every >= 1.
  TopKSchedule(int64_t batch_size, double gamma, double nu_count, int64_t decay_every);

  int64_t k() const;                      // floor(k): the samples a batch keeps
  double k_real() const { return k_; }
  int64_t generator_steps() const { return steps_; }
  int64_t batch_size() const { return batch_; }
  double gamma() const { return gamma_; }
  double nu() const { return nu_; }
  int64_t decay_every() const { return decay_every_; }

  // Call once after each generator step.
  void on_generator_step();

  // The schedule state kept in checkpoints: k (exact double) and the generator-step count.
  nlohmann::json state() const;
  void load_state(const nlohmann::json& state);

 private:
  int64_t batch_;
  double gamma_;
  double nu_;
  int64_t decay_every_;
  double k_;
  int64_t steps_ = 0;
};

}  // namespace gantry::train
