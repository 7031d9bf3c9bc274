#pragma once
// Learning-rate schedules as a small value type: a constant rate or a linear decay (SNGAN's and
// BigGAN-style "linear decay": from the base rate at step START to FINAL, default 0, at step END,
// constant before and after), optionally multiplied by a linear warm-up over the first N steps.
//
//   lr_at(step) = base_lr * warmup(step) * decay(step)      step = updates already taken (0-based)
//   warmup(s)   = min(1, (s + 1) / N)                      (1 without warm-up)
//   decay(s)    = 1 for s <= START, FINAL/base_lr for s >= END, linear in between (1 for constant)
//
// The step-0 rate is base_lr / N, so no update is wasted at rate 0. lr_at(k) equals the rate a
// PyTorch scheduler gives after k scheduler.step() calls: LinearLR(start_factor=1/N, total_iters=N-1)
// for the warm-up, LinearLR(1, FINAL/base_lr, END-START) started at START for the decay.
//
// Text form (command lines; to_string() writes it, parse() reads it):
//   constant                  linear:START:END          linear:START:END:FINAL
//   warmup:N                  warmup:N+constant         warmup:N+linear:START:END[:FINAL]
// START, END and N are step counts (0 <= START < END, N >= 1); FINAL is an absolute learning rate.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace gantry::optim {

class Optimizer;

class LrSchedule {
 public:
  // Constant 1e-3 (the Adam default); configs set their own with the factories or parse().
  LrSchedule() = default;
  static LrSchedule constant(double base_lr);
  static LrSchedule linear(double base_lr, int64_t start, int64_t end, double final_lr = 0);
  // This schedule with a linear warm-up over the first `steps` steps (0 removes it).
  LrSchedule with_warmup(int64_t steps) const;

  // Reads the text form; errors name the whole text and the part that is wrong.
  static LrSchedule parse(const std::string& text, double base_lr);
  std::string to_string() const;
  // {"base_lr", "warmup_steps", "decay": "constant" | "linear", and for linear "decay_start",
  // "decay_end", "final_lr"}; from_json validates like the constructors and names the bad field.
  nlohmann::json to_json() const;
  static LrSchedule from_json(const nlohmann::json& j);

  double lr_at(int64_t step) const;
  // Sets the optimiser's learning rate to lr_at(step); call before the update of step `step`.
  void apply(Optimizer& optimizer, int64_t step) const;

  double base_lr() const { return base_lr_; }
  bool is_linear() const { return linear_; }
  int64_t decay_start() const { return start_; }
  int64_t decay_end() const { return end_; }
  double final_lr() const { return final_lr_; }
  int64_t warmup_steps() const { return warmup_; }

  bool operator==(const LrSchedule&) const = default;

 private:
  // Every constructor ends here; throws an unprefixed message that the caller prefixes.
  static LrSchedule checked(double base_lr, bool linear, int64_t start, int64_t end, double final_lr, int64_t warmup);

  double base_lr_ = 1e-3;
  bool linear_ = false;
  int64_t start_ = 0, end_ = 0;
  double final_lr_ = 0;
  int64_t warmup_ = 0;
};

}  // namespace gantry::optim
