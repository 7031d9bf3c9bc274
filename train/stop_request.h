#pragma once
// A graceful stop on SIGINT or SIGTERM. While a StopRequest exists, the first of those signals only
// records itself (the program polls requested() at a safe point, e.g. after a training step, saves
// its state and exits with exit_status()); the handlers then fall back to the default action, so a
// second signal while the program winds down ends it at once.
namespace gantry::train {

class StopRequest {
 public:
  // Installs the handlers; throws gantry::Error when another StopRequest is alive (the handlers are
  // process-wide). The destructor restores the handlers that were there before.
  StopRequest();
  ~StopRequest();
  StopRequest(const StopRequest&) = delete;
  StopRequest& operator=(const StopRequest&) = delete;

  bool requested() const { return signal() != 0; }
  int signal() const;               // the signal received first (SIGINT or SIGTERM); 0 while none
  int exit_status() const;          // 128 + signal(), the shell's convention (130 for SIGINT, 143 for SIGTERM)
  const char* signal_name() const;  // "SIGINT", "SIGTERM" ("" while none)
};

}  // namespace gantry::train
