#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "engine/core/error.h"
#include "tests/support/error_matchers.h"
#include "tests/support/test_util.h"
#include "train/folder_lock.h"

namespace gantry {
namespace {

namespace fs = std::filesystem;

std::string fresh_folder(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("gantry_folder_lock_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

TEST(FolderLock, SecondLockOnTheSameFolderIsRefusedWithTheOwnersPid) {
  const std::string dir = fresh_folder("second");
  // The lock is per open file, so a second lock in this process conflicts just as another process's would.
  train::FolderLock first(dir);
  EXPECT_EQ(train::FolderLock::holder(dir), ::getpid());
  EXPECT_TRUE(testing::throws_error_mentioning([&] { train::FolderLock second(dir); },
                                               {dir, "in use", "pid " + std::to_string(::getpid())}));
}

TEST(FolderLock, ReleasedWhenTheOwnerGoesAway) {
  const std::string dir = fresh_folder("release");
  { train::FolderLock lock(dir); }
  EXPECT_EQ(train::FolderLock::holder(dir), -1);
  EXPECT_NO_THROW(train::FolderLock again(dir));
}

TEST(FolderLock, AKilledOwnerLeavesNoStaleLock) {
  const std::string dir = fresh_folder("killed");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    train::FolderLock lock(dir);
    const char ok = 1;
    (void)!::write(ready[1], &ok, 1);
    ::pause();
    ::_exit(0);
  }
  char ok = 0;
  ASSERT_EQ(::read(ready[0], &ok, 1), 1);
  EXPECT_EQ(train::FolderLock::holder(dir), child);
  EXPECT_TRUE(testing::throws_error_mentioning([&] { train::FolderLock mine(dir); }, {"pid " + std::to_string(child)}));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  EXPECT_EQ(train::FolderLock::holder(dir), -1);
  EXPECT_NO_THROW(train::FolderLock mine(dir));
}

TEST(FolderLock, UncreatableLockFileIsReported) {
  EXPECT_TRUE(testing::throws_error_mentioning([] { train::FolderLock lock("/dev/null/nowhere"); },
                                               {"/dev/null/nowhere", "lock file"}));
}

}  // namespace
}  // namespace gantry
