#include "train/data/external_command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"

namespace gantry::data {

namespace {

// The last few lines of a log, to quote in an error.
std::string log_tail(const std::string& log_path, size_t max_lines = 10) {
  std::string text;
  try {
    text = io::read_file(log_path);
  } catch (const Error&) {
    return "";
  }
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  std::string out;
  for (size_t i = lines.size() > max_lines ? lines.size() - max_lines : 0; i < lines.size(); ++i)
    out += "\n    " + lines[i];
  return out;
}

}  // namespace

std::string find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = (std::filesystem::path(dir.empty() ? "." : dir) / program).string();
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

CommandOutcome run_external_command(const std::vector<std::string>& argv, const std::string& folder,
                                    const std::string& log_path, double timeout_seconds) {
  GANTRY_CHECK(!argv.empty(), "run_external_command: empty command");
  const std::string program = find_on_path(argv[0]);
  if (program.empty()) return {false, argv[0] + " is not installed (not found on PATH)"};
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  GANTRY_CHECK(log >= 0, "cannot create the log file '", log_path, "'");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {  // the child: only async-signal-safe calls until exec
    ::dup2(log, 1);
    ::dup2(log, 2);
    const int null_in = ::open("/dev/null", O_RDONLY);
    if (null_in >= 0) ::dup2(null_in, 0);
    if (::chdir(folder.c_str()) != 0) ::_exit(126);
    ::execv(program.c_str(), args.data());
    ::_exit(127);
  }
  ::close(log);
  GANTRY_CHECK(pid > 0, "cannot start ", argv[0]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return {false, argv[0] + " did not finish within " + std::to_string(static_cast<int>(timeout_seconds)) +
                         " s (no network?)" + log_tail(log_path)};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {true, ""};
  const std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                            : "was killed by signal " + std::to_string(WTERMSIG(status));
  return {false, argv[0] + " " + how + log_tail(log_path)};
}

}  // namespace gantry::data
