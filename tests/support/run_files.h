#pragma once
// Test helpers around run folders: a temporary folder per test, and the files a run writes read back.
#include <nlohmann/json.hpp>
#include <string>

namespace gantry::testing {

// A fresh, empty folder under the temp directory (named after the test and this pid), removed at the end.
class TempFolder {
 public:
  explicit TempFolder(const std::string& name);
  ~TempFolder();
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const;

 private:
  std::string path_;
};

nlohmann::json read_json_file(const std::string& path);

// A run checkpoint's resumable state (step, RNG, update policy) from its metadata, leaving out anything
// that names the folder it was written in.
nlohmann::json checkpoint_run_state(const std::string& checkpoint_path);

}  // namespace gantry::testing
