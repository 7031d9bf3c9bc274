#pragma once
// A fresh folder under the temp directory for one test, named after the test and the process (so
// parallel ctest processes never share one), removed when the test ends.
#include <unistd.h>

#include <filesystem>
#include <string>

namespace gantry::testing {

class TempFolder {
 public:
  explicit TempFolder(const std::string& name)
      : path_((std::filesystem::temp_directory_path() / ("gantry_e2e_" + name + "_" + std::to_string(::getpid())))
                  .string()) {
    std::filesystem::remove_all(path_);
  }
  ~TempFolder() { std::filesystem::remove_all(path_); }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return (std::filesystem::path(path_) / name).string(); }

 private:
  std::string path_;
};

}  // namespace gantry::testing
