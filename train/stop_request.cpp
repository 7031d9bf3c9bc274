#include "train/stop_request.h"

#include <signal.h>

#include <atomic>

#include "engine/core/error.h"

namespace gantry::train {

namespace {

constexpr int kStopSignals[] = {SIGINT, SIGTERM};

// Process-wide, as signal dispositions are. A lock-free atomic is safe to touch in a handler.
std::atomic<int> g_received{0};
std::atomic<bool> g_installed{false};
struct sigaction g_previous[2];

void set_handler(int sig, void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  // Both blocked while the handler runs: a second signal then waits until the handler has switched
  // to the default action, and takes it.
  sigemptyset(&action.sa_mask);
  for (int s : kStopSignals) sigaddset(&action.sa_mask, s);
  // SA_RESTART: system calls in the middle of a step or a checkpoint write continue undisturbed.
  action.sa_flags = SA_RESTART;
  ::sigaction(sig, &action, nullptr);
}

extern "C" void record_stop_signal(int sig) {
  int none = 0;
  const bool first = g_received.compare_exchange_strong(none, sig);
  for (int s : kStopSignals) set_handler(s, SIG_DFL);  // the next one takes its default action
  // The handler's mask blocks the stop signals on its own thread only: a second signal delivered to
  // another thread at the same moment still finds this handler. It is a second signal all the same,
  // so it takes the default action now (pending until this handler returns, then fatal).
  if (!first) ::raise(sig);
}

}  // namespace

StopRequest::StopRequest() {
  GANTRY_CHECK(!g_installed.exchange(true), "StopRequest: the stop handlers are already installed");
  g_received = 0;
  for (int i = 0; i < 2; ++i) {
    ::sigaction(kStopSignals[i], nullptr, &g_previous[i]);
    set_handler(kStopSignals[i], record_stop_signal);
  }
}

StopRequest::~StopRequest() {
  for (int i = 0; i < 2; ++i) ::sigaction(kStopSignals[i], &g_previous[i], nullptr);
  g_installed = false;
}

int StopRequest::signal() const { return g_received.load(); }

int StopRequest::exit_status() const { return requested() ? 128 + signal() : 0; }

const char* StopRequest::signal_name() const {
  switch (signal()) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "";
  }
}

}  // namespace gantry::train
