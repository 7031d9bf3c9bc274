#include "tests/support/process_util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "train/run_progress.h"

namespace gantry::testing {

namespace fs = std::filesystem;

std::string gantry_binary() {
#ifdef GANTRY_BINARY
  return GANTRY_BINARY;
#else
  throw std::runtime_error("this test suite was built without GANTRY_BINARY (the gantry binary's path)");
#endif
}

GantryProcess::GantryProcess(const std::vector<std::string>& args, std::string output_path, bool new_process_group)
    : output_path_(std::move(output_path)) {
  std::vector<std::string> words = {gantry_binary()};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  const int fd = ::open(output_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot create '" + output_path_ + "': " + std::strerror(errno));
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    if (new_process_group) ::setpgid(0, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fd);
  if (pid_ < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (new_process_group) ::setpgid(pid_, pid_);  // also here, so it holds before the child runs
}

GantryProcess::~GantryProcess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

bool GantryProcess::running() {
  if (status_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
  status_ = status;
  return false;
}

void GantryProcess::signal(int sig) const { ::kill(pid_, sig); }

std::optional<int> GantryProcess::wait_for(Millis timeout) {
  wait_until([this] { return !running(); }, timeout);
  return status_;
}

std::string GantryProcess::output() const {
  std::ifstream in(output_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int exit_code_of(int wait_status) {
  return WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status) : WEXITSTATUS(wait_status);
}

std::pair<int, std::string> run_gantry(const std::vector<std::string>& args, const std::string& output_path,
                                       Millis timeout) {
  GantryProcess p(args, output_path);
  const auto status = p.wait_for(timeout);
  return {status ? exit_code_of(*status) : -1, p.output()};
}

bool wait_until(const std::function<bool()>& ready, Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ready()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(Millis(1));
  }
  return true;
}

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every /proc/<pid> with its state letter and parent pid (from /proc/<pid>/stat).
struct ProcEntry {
  pid_t pid, ppid;
  char state;
};

std::vector<ProcEntry> all_processes() {
  std::vector<ProcEntry> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = read_text(entry.path() / "stat");
    const size_t paren = stat.rfind(')');  // the command name may hold spaces and parentheses
    if (paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(paren + 1));
    ProcEntry p{static_cast<pid_t>(std::stol(name)), 0, '?'};
    rest >> p.state >> p.ppid;
    out.push_back(p);
  }
  return out;
}

}  // namespace

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& p : all_processes())
    if (p.ppid == parent && p.state != 'Z') out.push_back(p.pid);
  return out;
}

std::vector<pid_t> processes_mentioning(const std::string& text) {
  std::vector<pid_t> out;
  for (const auto& p : all_processes()) {
    if (p.state == 'Z' || p.pid == ::getpid()) continue;
    std::string cmdline = read_text(fs::path("/proc") / std::to_string(p.pid) / "cmdline");
    for (char& c : cmdline)
      if (c == '\0') c = ' ';
    if (cmdline.find(text) != std::string::npos) out.push_back(p.pid);
  }
  return out;
}

void kill_processes_mentioning(const std::string& text) {
  for (pid_t pid : processes_mentioning(text)) ::kill(pid, SIGKILL);
}

bool process_gone(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, WNOHANG);  // a zombie child of ours still "exists" until reaped
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

void become_subreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
    throw std::runtime_error(std::string("prctl(PR_SET_CHILD_SUBREAPER) failed: ") + std::strerror(errno));
}

std::vector<pid_t> wait_for_training_children(GantryProcess& grid, const std::vector<std::string>& logs,
                                              int64_t min_step, Millis timeout) {
  std::vector<pid_t> children;
  const bool training = wait_until(
      [&] {
        if (!grid.running()) return true;
        children = children_of(grid.pid());
        if (children.size() != logs.size()) return false;
        for (const auto& log : logs)
          if (train::last_logged_step(log) < min_step) return false;
        return true;
      },
      timeout);
  if (!training || !grid.running()) return {};
  return children;
}

}  // namespace gantry::testing
