#pragma once
// Training progress on the terminal: one line rewritten in place (step, losses, k, steps/s, ETA) when
// the stream is a terminal, otherwise a plain line every `plain_every` steps (logs stay readable).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace gantry::train {

struct ProgressSnapshot {
  int64_t step = 0;         // steps completed
  int64_t total_steps = 0;
  double d_loss = 0, g_loss = 0;
  int64_t k = 0;
};

class ProgressDisplay {
 public:
  ProgressDisplay(std::FILE* stream, int64_t first_step, int64_t plain_every);
  // Forces plain periodic lines (tests, pipes).
  void set_interactive(bool interactive) { interactive_ = interactive; }
  void update(const ProgressSnapshot& s);
  // Ends the in-place line.
  void finish(const ProgressSnapshot& s);
  double steps_per_second(int64_t step) const;

 private:
  std::string format(const ProgressSnapshot& s) const;
  std::FILE* stream_;
  bool interactive_;
  int64_t first_step_;
  int64_t plain_every_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

std::string format_duration(double seconds);

}  // namespace gantry::train
