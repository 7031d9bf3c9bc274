#pragma once
// An exclusive, process-wide lock on a run folder, so two processes never train into (or summarise)
// the same folder at once. It is an flock(2) on <folder>/.gantry.lock holding the owner's pid: the
// kernel releases it when the owner exits in any way (kill -9 included), so a stale lock file never
// blocks a later run, and a refused process can name the process that holds it.
#include <sys/types.h>

#include <string>

namespace gantry::train {

class FolderLock {
 public:
  // Takes the lock without waiting; throws gantry::Error naming the folder and the owner's pid when
  // another process holds it, or naming the lock file when it cannot be created.
  explicit FolderLock(const std::string& folder);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;
  FolderLock(FolderLock&& other) noexcept;
  FolderLock& operator=(FolderLock&&) = delete;

  const std::string& path() const { return path_; }
  // The pid recorded in a folder's lock file when a live process holds its lock; -1 when it is free.
  static pid_t holder(const std::string& folder);

 private:
  std::string path_;
  int fd_ = -1;
};

inline constexpr const char* kFolderLockFile = ".gantry.lock";

}  // namespace gantry::train
