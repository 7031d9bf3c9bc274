#include "train/folder_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "engine/core/error.h"

namespace gantry::train {

namespace {

std::string lock_path(const std::string& folder) { return (std::filesystem::path(folder) / kFolderLockFile).string(); }

// The pid text in an open lock file ("" when unreadable).
pid_t read_pid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return -1;
  try {
    return static_cast<pid_t>(std::stol(std::string(buf, static_cast<size_t>(n))));
  } catch (const std::logic_error&) {
    return -1;
  }
}

}  // namespace

FolderLock::FolderLock(const std::string& folder) : path_(lock_path(folder)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  GANTRY_CHECK(fd_ >= 0, "run folder: cannot create the lock file '", path_, "': ", std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int why = errno;
    const pid_t owner = read_pid(fd_);
    ::close(fd_);
    fd_ = -1;
    GANTRY_CHECK(why == EWOULDBLOCK, "run folder: cannot lock '", path_, "': ", std::strerror(why));
    GANTRY_FAIL("run folder: '", folder, "' is in use by another gantry process",
                owner > 0 ? " (pid " + std::to_string(owner) + ")" : std::string(),
                "; wait for it to finish or stop it first");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const std::string why = std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    GANTRY_FAIL("run folder: cannot write the lock file '", path_, "': ", why);
  }
}

FolderLock::FolderLock(FolderLock&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) { other.fd_ = -1; }

FolderLock::~FolderLock() {
  // Closing releases the flock; the file stays (removing it would race with a process opening it).
  if (fd_ >= 0) ::close(fd_);
}

pid_t FolderLock::holder(const std::string& folder) {
  const std::string path = lock_path(folder);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  pid_t owner = -1;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) owner = read_pid(fd);
  else ::flock(fd, LOCK_UN);
  ::close(fd);
  return owner;
}

}  // namespace gantry::train
