#include "train/cli/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include "engine/core/error.h"

namespace gantry::cli {

namespace {

// Between fork and exec only async-signal-safe calls are allowed, so failures there are reported
// with write(2) and _exit.
[[noreturn]] void child_fail(const char* what) {
  const char* why = std::strerror(errno);
  for (const char* part : {what, ": ", why, "\n"}) {
    const ssize_t ignored = ::write(STDERR_FILENO, part, std::strlen(part));
    (void)ignored;
  }
  ::_exit(127);
}

pid_t spawn(const ChildJob& job) {
  const int fd = ::open(job.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  GANTRY_CHECK(fd >= 0, "cannot create child log '", job.log_path, "': ", std::strerror(errno));
  std::vector<char*> argv;
  for (const auto& a : job.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    // SIGTERM (a graceful stop: the child checkpoints) when the parent dies; the getppid check
    // closes the window where the parent died before the request was made.
    if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) child_fail("prctl(PR_SET_PDEATHSIG)");
    if (::getppid() != parent) ::_exit(128 + SIGTERM);
    if (::setpgid(0, 0) != 0) child_fail("setpgid");
    ::execv(argv[0], argv.data());
    child_fail(argv[0]);
  }
  ::close(fd);
  GANTRY_CHECK(pid > 0, "fork failed: ", std::strerror(errno));
  return pid;
}

int exit_status_of(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

}  // namespace

void run_child_jobs(std::vector<ChildJob>& jobs, int max_parallel, const ChildJobHooks& hooks) {
  GANTRY_CHECK(max_parallel >= 1, "--jobs: must be >= 1, got ", max_parallel);
  using Clock = std::chrono::steady_clock;
  const bool ticking = hooks.on_tick && hooks.tick_seconds > 0;
  const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(hooks.tick_seconds));
  Clock::time_point next_tick = Clock::now() + period;
  std::map<pid_t, size_t> running;
  size_t next = 0;
  int forwarded = 0;  // the stop signal, once sent
  while ((next < jobs.size() && !forwarded) || !running.empty()) {
    if (!forwarded && hooks.stop_signal) {
      if (const int sig = hooks.stop_signal()) {
        forwarded = sig;
        if (hooks.on_stop) hooks.on_stop(sig);
        for (const auto& [child, index] : running) {
          ::kill(child, sig);
          jobs[index].signalled = true;
        }
        continue;
      }
    }
    while (!forwarded && next < jobs.size() && static_cast<int>(running.size()) < max_parallel) {
      running[spawn(jobs[next])] = next;
      ++next;
    }
    // Poll, so stop requests and ticks are seen within a tenth of a second (nothing next to a run).
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (ticking && Clock::now() >= next_tick) {
        std::vector<size_t> indices;
        for (const auto& [child, index] : running) indices.push_back(index);
        std::sort(indices.begin(), indices.end());
        hooks.on_tick(indices);
        next_tick = Clock::now() + period;
      }
      continue;
    }
    if (pid < 0) {
      if (errno == EINTR) continue;
      GANTRY_FAIL("waitpid failed: ", std::strerror(errno));
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    ChildJob& job = jobs[it->second];
    job.exit_status = exit_status_of(status);
    const size_t index = it->second;
    running.erase(it);
    if (hooks.on_done) hooks.on_done(index);
  }
}

}  // namespace gantry::cli
