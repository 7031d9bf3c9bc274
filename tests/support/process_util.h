#pragma once
// Helpers for tests that run the gantry binary as real processes and interrupt them: spawning with
// the output captured in a file, waiting with a deadline, signals, and finding or ruling out the
// processes a command left behind.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gantry::testing {

using Millis = std::chrono::milliseconds;

// The gantry binary of this build.
std::string gantry_binary();

// `gantry <args...>` as a child process, stdout and stderr into output_path. The destructor kills
// (SIGKILL) and reaps it when it still runs, so a failing test leaves nothing behind.
class GantryProcess {
 public:
  // new_process_group: the child leads its own process group (a terminal's foreground job), so a
  // signal to -pid() reaches it and whatever it started in that group.
  GantryProcess(const std::vector<std::string>& args, std::string output_path, bool new_process_group = false);
  ~GantryProcess();
  GantryProcess(const GantryProcess&) = delete;
  GantryProcess& operator=(const GantryProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();  // reaps it when it has exited
  void signal(int sig) const;
  // The wait status (see waitpid) once it exits within the timeout; nullopt when it is still running.
  std::optional<int> wait_for(Millis timeout);
  std::string output() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string output_path_;
};

// Runs gantry to completion (up to timeout) and returns {exit code or 128 + signal, output}; -1 on timeout.
std::pair<int, std::string> run_gantry(const std::vector<std::string>& args, const std::string& output_path,
                                       Millis timeout = Millis(120000));

// 128 + signal for a wait status ended by a signal, else the exit code.
int exit_code_of(int wait_status);

// Polls `ready` every millisecond until it holds (true) or the timeout passes (false).
bool wait_until(const std::function<bool()>& ready, Millis timeout);

// The live (non-zombie) children of a process, from /proc.
std::vector<pid_t> children_of(pid_t parent);
// Waits until `grid` has one live child per log and every log (a run's log.jsonl) has a record at step
// `min_step` or later, and returns those children; returns none when the grid exits first or the
// timeout passes.
std::vector<pid_t> wait_for_training_children(GantryProcess& grid, const std::vector<std::string>& logs,
                                              int64_t min_step, Millis timeout);
// Processes (other than zombies) whose command line contains `text`, from /proc.
std::vector<pid_t> processes_mentioning(const std::string& text);
// SIGKILLs every process processes_mentioning(text) finds (the clean-up after a failed check).
void kill_processes_mentioning(const std::string& text);
// True when no process has this pid any more; reaps it first when it is a child of this process.
bool process_gone(pid_t pid);
// Makes this process the reaper of its orphaned descendants (prctl PR_SET_CHILD_SUBREAPER), so a test
// can wait for the children of a process it killed.
void become_subreaper();

}  // namespace gantry::testing
