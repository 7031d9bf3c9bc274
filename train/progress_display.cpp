#include "train/progress_display.h"

#include <unistd.h>

#include <cmath>

namespace gantry::train {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const auto total = static_cast<int64_t>(std::llround(seconds));
  char buf[32];
  if (total >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(total / 3600),
                  static_cast<long long>(total / 60 % 60), static_cast<long long>(total % 60));
  else
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", static_cast<long long>(total / 60),
                  static_cast<long long>(total % 60));
  return buf;
}

ProgressDisplay::ProgressDisplay(std::FILE* stream, int64_t first_step, int64_t plain_every)
    : stream_(stream), interactive_(::isatty(::fileno(stream)) != 0), first_step_(first_step),
      plain_every_(plain_every < 1 ? 1 : plain_every), start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

double ProgressDisplay::steps_per_second(int64_t step) const {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return elapsed > 0 ? static_cast<double>(step - first_step_) / elapsed : 0.0;
}

std::string ProgressDisplay::format(const ProgressSnapshot& s) const {
  const double rate = steps_per_second(s.step);
  const double eta = rate > 0 ? static_cast<double>(s.total_steps - s.step) / rate : -1;
  char buf[256];
  std::snprintf(buf, sizeof buf, "step %lld/%lld  d_loss %.4f  g_loss %.4f  k %lld  %.1f steps/s  ETA %s",
                static_cast<long long>(s.step), static_cast<long long>(s.total_steps), s.d_loss, s.g_loss,
                static_cast<long long>(s.k), rate, format_duration(eta).c_str());
  return buf;
}

void ProgressDisplay::update(const ProgressSnapshot& s) {
  if (interactive_) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(200) && s.step != s.total_steps) return;
    last_draw_ = now;
    std::fprintf(stream_, "\r\033[K%s", format(s).c_str());
    std::fflush(stream_);
  } else if (s.step % plain_every_ == 0) {
    std::fprintf(stream_, "%s\n", format(s).c_str());
    std::fflush(stream_);
  }
}

void ProgressDisplay::finish(const ProgressSnapshot& s) {
  if (interactive_) std::fprintf(stream_, "\r\033[K%s\n", format(s).c_str());
  std::fflush(stream_);
}

}  // namespace gantry::train
