#include "train/cli/child_process.h"

#include <fcntl.h>
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

pid_t spawn(const ChildJob& job) {
  const int fd = ::open(job.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  GANTRY_CHECK(fd >= 0, "cannot create child log '", job.log_path, "': ", std::strerror(errno));
  std::vector<char*> argv;
  for (const auto& a : job.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    std::fprintf(stderr, "exec %s failed: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(fd);
  GANTRY_CHECK(pid > 0, "fork failed: ", std::strerror(errno));
  return pid;
}

}  // namespace

void run_child_jobs(std::vector<ChildJob>& jobs, int max_parallel, const std::function<void(size_t)>& on_done,
                    const std::function<void(const std::vector<size_t>&)>& on_tick, double tick_seconds) {
  GANTRY_CHECK(max_parallel >= 1, "--jobs: must be >= 1, got ", max_parallel);
  using Clock = std::chrono::steady_clock;
  const bool ticking = on_tick && tick_seconds > 0;
  const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(tick_seconds));
  Clock::time_point next_tick = Clock::now() + period;
  std::map<pid_t, size_t> running;
  size_t next = 0;
  while (next < jobs.size() || !running.empty()) {
    while (next < jobs.size() && static_cast<int>(running.size()) < max_parallel) {
      running[spawn(jobs[next])] = next;
      ++next;
    }
    int status = 0;
    // With ticks, poll (a tenth of a second costs nothing next to a training run); without, block.
    const pid_t pid = ::waitpid(-1, &status, ticking ? WNOHANG : 0);
    if (pid == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (Clock::now() >= next_tick) {
        std::vector<size_t> indices;
        for (const auto& [child, index] : running) indices.push_back(index);
        std::sort(indices.begin(), indices.end());
        on_tick(indices);
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
    job.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    const size_t index = it->second;
    running.erase(it);
    if (on_done) on_done(index);
  }
}

}  // namespace gantry::cli
