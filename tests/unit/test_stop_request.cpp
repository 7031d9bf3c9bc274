// The graceful-stop handlers: the first SIGINT/SIGTERM is recorded (with its exit status), a second
// one takes the default action at once, and the previous handlers come back afterwards.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "engine/core/error.h"
#include "train/stop_request.h"

namespace gantry::train {
namespace {

TEST(StopRequest, RecordsTheFirstSignalInsteadOfDying) {
  for (const int sig : {SIGINT, SIGTERM}) {
    const StopRequest stop;
    EXPECT_FALSE(stop.requested());
    EXPECT_EQ(stop.exit_status(), 0);
    ASSERT_EQ(::raise(sig), 0);
    EXPECT_TRUE(stop.requested());
    EXPECT_EQ(stop.signal(), sig);
    EXPECT_EQ(stop.exit_status(), 128 + sig);
    EXPECT_STREQ(stop.signal_name(), sig == SIGINT ? "SIGINT" : "SIGTERM");
  }
}

TEST(StopRequest, ASecondSignalTakesTheDefaultActionAtOnce) {
  EXPECT_EXIT(
      {
        const StopRequest stop;
        ::raise(SIGTERM);
        ::raise(SIGINT);  // while "stopping"
        ::_exit(0);
      },
      ::testing::KilledBySignal(SIGINT), "");
}

volatile sig_atomic_t g_previous_handler_ran = 0;
extern "C" void previous_handler(int) { g_previous_handler_ran = 1; }

TEST(StopRequest, RestoresThePreviousHandlers) {
  struct sigaction mine {
  }, saved{};
  mine.sa_handler = previous_handler;
  sigemptyset(&mine.sa_mask);
  ASSERT_EQ(::sigaction(SIGTERM, &mine, &saved), 0);
  { const StopRequest stop; }
  ::raise(SIGTERM);
  EXPECT_EQ(g_previous_handler_ran, 1);
  ::sigaction(SIGTERM, &saved, nullptr);
}

TEST(StopRequest, OnlyOneAtATime) {
  const StopRequest stop;
  EXPECT_THROW(StopRequest second, Error);
}

}  // namespace
}  // namespace gantry::train
