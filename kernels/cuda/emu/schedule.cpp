#include "kernels/cuda/emu/schedule.h"

#include <cstdlib>
#include <mutex>

#include "engine/core/error.h"

namespace gantry::emu {

namespace {
std::mutex g_mutex;
bool g_initialised = false;
Schedule g_schedule;
}  // namespace

Schedule parse_schedule(const std::string& text) {
  if (text == "forward") return {ScheduleKind::forward, 0};
  if (text == "reverse") return {ScheduleKind::reverse, 0};
  if (text == "random") return {ScheduleKind::random, 1};
  if (text.rfind("random:", 0) == 0) {
    const std::string digits = text.substr(7);
    char* end = nullptr;
    const unsigned long long seed = std::strtoull(digits.c_str(), &end, 10);
    if (!digits.empty() && end != nullptr && *end == '\0') return {ScheduleKind::random, seed};
  }
  GANTRY_FAIL("GANTRY_CUDA_EMU_SCHEDULE: expected forward, reverse, random or random:SEED, got '", text, "'");
}

std::string schedule_name(const Schedule& schedule) {
  switch (schedule.kind) {
    case ScheduleKind::forward: return "forward";
    case ScheduleKind::reverse: return "reverse";
    case ScheduleKind::random: return "random:" + std::to_string(schedule.seed);
  }
  return "?";
}

Schedule current_schedule() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_initialised) {
    const char* env = std::getenv("GANTRY_CUDA_EMU_SCHEDULE");
    g_schedule = env != nullptr && *env != '\0' ? parse_schedule(env) : Schedule{};
    g_initialised = true;
  }
  return g_schedule;
}

void set_schedule(Schedule schedule) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_schedule = schedule;
  g_initialised = true;
}

}  // namespace gantry::emu
