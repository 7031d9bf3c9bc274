#include "train/run_progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/io/json_integer.h"
#include "train/progress_display.h"

namespace gantry::train {

int64_t last_logged_step(const std::string& log_path) {
  std::ifstream in(log_path, std::ios::binary | std::ios::ate);
  if (!in) return -1;
  // The tail is enough: records are short, and a long log must not be read whole every tick.
  const std::streamoff size = in.tellg();
  const std::streamoff from = std::max<std::streamoff>(0, size - 4096);
  in.seekg(from);
  std::string tail(static_cast<size_t>(size - from), '\0');
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  return last_logged_step_in_tail(tail, from > 0);
}

int64_t last_logged_step_in_tail(const std::string& tail, bool starts_mid_line) {
  // Complete lines only: the last may still be being written, and the first of a partial tail is cut.
  std::vector<std::string> lines;
  size_t begin = 0;
  for (size_t nl = tail.find('\n'); nl != std::string::npos; begin = nl + 1, nl = tail.find('\n', begin))
    lines.push_back(tail.substr(begin, nl - begin));
  if (starts_mid_line && !lines.empty()) lines.erase(lines.begin());
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    const auto record = nlohmann::json::parse(*it, nullptr, false);
    if (!record.is_object() || !record.contains("step")) continue;
    if (const auto step = io::json_integer<int64_t>(record["step"])) return *step;
  }
  return -1;
}

GridProgress::GridProgress(int64_t steps_per_run, size_t runs_to_do)
    : steps_per_run_(steps_per_run), runs_to_do_(runs_to_do), start_(Clock::now()) {}

std::string GridProgress::line(const std::vector<Running>& running, size_t finished) {
  const Clock::time_point now = Clock::now();
  std::string out = "  [";
  out.append(format_duration(std::chrono::duration<double>(now - start_).count())).append("]");
  double rate_sum = 0;       // steps/s over the runs with a measured rate
  double steps_left = 0;     // in the running runs
  for (const Running& r : running) {
    const int64_t step = last_logged_step(r.log_path);
    out.append(" ").append(r.name).append(" ");
    if (step < 0) {
      out += "starting;";
      steps_left += static_cast<double>(steps_per_run_);
      continue;
    }
    steps_left += static_cast<double>(std::max<int64_t>(0, steps_per_run_ - step));
    const auto it = first_seen_.try_emplace(r.name, FirstSeen{step, now}).first;
    if (step < it->second.step) it->second = FirstSeen{step, now};  // a resumed run rewinds to its checkpoint
    const FirstSeen seen = it->second;
    const double dt = std::chrono::duration<double>(now - seen.when).count();
    char buf[64];
    if (dt > 0 && step > seen.step) {
      const double rate = static_cast<double>(step - seen.step) / dt;
      rate_sum += rate;
      std::snprintf(buf, sizeof buf, "%lld/%lld (%.0f/s);", static_cast<long long>(step),
                    static_cast<long long>(steps_per_run_), rate);
    } else {
      std::snprintf(buf, sizeof buf, "%lld/%lld;", static_cast<long long>(step), static_cast<long long>(steps_per_run_));
    }
    out += buf;
  }
  const size_t waiting = runs_to_do_ - std::min(runs_to_do_, finished + running.size());
  steps_left += static_cast<double>(waiting) * static_cast<double>(steps_per_run_);
  char summary[64];
  std::snprintf(summary, sizeof summary, " %zu/%zu runs done", finished, runs_to_do_);
  out += summary;
  if (rate_sum > 0) out.append(", about ").append(format_duration(steps_left / rate_sum)).append(" left");
  return out;
}

}  // namespace gantry::train
