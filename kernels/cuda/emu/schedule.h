#pragma once
// The order in which the emulator runs the threads of a block (between two synchronisation points)
// and the blocks of a grid. A correct kernel gives the same result under every order; running the
// suite under several orders exposes kernels that silently depend on one.
#include <cstdint>
#include <string>

namespace gantry::emu {

enum class ScheduleKind { forward, reverse, random };

struct Schedule {
  ScheduleKind kind = ScheduleKind::forward;
  uint64_t seed = 0;  // for `random`
};

// From GANTRY_CUDA_EMU_SCHEDULE = forward | reverse | random[:SEED] (default forward), read once;
// set_schedule overrides it for the rest of the process (tests).
Schedule current_schedule();
void set_schedule(Schedule schedule);

// Parses "forward", "reverse", "random" or "random:SEED"; throws gantry::Error naming the variable.
Schedule parse_schedule(const std::string& text);
std::string schedule_name(const Schedule& schedule);

}  // namespace gantry::emu
