#include "train/checkpoint_rotation.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"

namespace gantry::train {

namespace fs = std::filesystem;

std::string step_checkpoint_name(int64_t step) {
  char name[64];
  std::snprintf(name, sizeof name, "step_%07lld.safetensors", static_cast<long long>(step));
  return name;
}

std::vector<std::string> step_checkpoints_in(const std::string& folder) {
  std::vector<std::string> names;
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return names;
  for (const auto& entry : fs::directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("step_", 0) == 0 && entry.path().extension() == ".safetensors") names.push_back(name);
  }
  std::sort(names.begin(), names.end());  // zero-padded steps sort in step order
  return names;
}

void keep_step_checkpoint(const std::string& latest, const std::string& folder, int64_t step, int64_t keep) {
  if (keep <= 0) return;
  fs::create_directories(folder);
  const fs::path target = fs::path(folder) / step_checkpoint_name(step);
  const std::string temporary = io::atomic_temporary_path(target.string());
  std::error_code ec;
  fs::remove(temporary, ec);
  fs::create_hard_link(latest, temporary, ec);
  if (ec) fs::copy_file(latest, temporary, fs::copy_options::overwrite_existing);
  fs::rename(temporary, target);
  std::vector<std::string> names = step_checkpoints_in(folder);
  for (size_t i = 0; i + static_cast<size_t>(keep) < names.size(); ++i) fs::remove(fs::path(folder) / names[i]);
}

}  // namespace gantry::train
