// Run folder housekeeping: the atomic writer's temporary files and their cleanup, and the up-front
// check that an output file can be written.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/io/atomic_file.h"
#include "tests/support/error_matchers.h"
#include "train/run_folder.h"

namespace gantry {
namespace {

namespace fs = std::filesystem;

// A pid no process has: a child that has exited and been reaped.
pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  return child;
}

std::string temp_folder(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("gantry_rf_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p.string();
}

TEST(AtomicFile, TemporaryNamesCarryTheWritersPid) {
  EXPECT_EQ(io::atomic_temporary_path("a/b.json"), "a/b.json.tmp." + std::to_string(::getpid()));
  EXPECT_EQ(io::atomic_temporary_writer("checkpoint.safetensors.tmp.1234"), 1234);
  EXPECT_FALSE(io::atomic_temporary_writer("checkpoint.safetensors").has_value());
  EXPECT_FALSE(io::atomic_temporary_writer("notes.tmp.12a").has_value());
  EXPECT_FALSE(io::atomic_temporary_writer(".tmp.12").has_value());
}

TEST(RunFolder, RemovesOnlyTheTemporariesOfWritersThatAreGone) {
  const std::string root = temp_folder("stale");
  const train::RunFolder folder(root);
  const std::string stale = "checkpoint.safetensors.tmp." + std::to_string(dead_pid());
  const std::string live = "metrics.json.tmp." + std::to_string(::getppid());
  for (const auto& name : {stale, live, std::string("notes.tmp.txt"), std::string("config.json")})
    std::ofstream(folder.file(name)) << "x";
  EXPECT_EQ(folder.remove_stale_temporaries(), std::vector<std::string>{stale});
  EXPECT_FALSE(folder.exists(stale));
  EXPECT_TRUE(folder.exists(live));
  EXPECT_TRUE(folder.exists("notes.tmp.txt"));
  EXPECT_TRUE(folder.exists("config.json"));
  fs::remove_all(root);
}

TEST(AtomicFile, WritabilityIsCheckedWithoutLeavingAnything) {
  const std::string root = temp_folder("writable");
  fs::create_directories(root);
  const std::string target = (fs::path(root) / "eval.json").string();
  EXPECT_NO_THROW(io::check_writable_file(target, "--json"));
  EXPECT_TRUE(fs::is_empty(root));
  EXPECT_TRUE(testing::throws_error_mentioning([&] { io::check_writable_file(root, "--png"); },
                                               {"--png", root, "is a folder"}));
  EXPECT_TRUE(testing::throws_error_mentioning([&] { io::check_writable_file(root + "/missing/e.json", "--json"); },
                                               {"--json", "missing", "does not exist"}));
  EXPECT_TRUE(testing::throws_error_mentioning([&] { io::check_writable_file("/proc/gantry_e.json", "--json"); },
                                               {"--json", "cannot write '/proc/gantry_e.json'"}));
  fs::remove_all(root);
}

}  // namespace
}  // namespace gantry
