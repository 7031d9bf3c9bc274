#pragma once
// Test helpers that alter a saved safetensors file the way damage or an older writer would: change
// its tensors or metadata and write it back, bypassing the checkpoint writer's own checks.
#include <functional>
#include <limits>
#include <string>

#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"

namespace gantry::testing {

inline void edit_tensor_file(const std::string& path, const std::function<void(io::TensorFile&)>& edit) {
  io::TensorFile file = io::load_safetensors(path);
  edit(file);
  io::write_file_atomic(path, io::serialize_safetensors(file.tensors, file.metadata));
}

// A checkpoint as gantry wrote it before runs and checksums were embedded: only gantry_run_state.
inline void make_old_style_checkpoint(const std::string& path) {
  edit_tensor_file(path, [](io::TensorFile& f) {
    const std::string state = f.metadata.at("gantry_run_state");
    f.metadata = {{"gantry_run_state", state}};
  });
}

// Writes NaN into the first element of the named f32 tensor.
inline void plant_nan(io::TensorFile& f, const std::string& tensor) {
  for (auto& [name, t] : f.tensors)
    if (name == tensor) t.data_ptr<float>()[0] = std::numeric_limits<float>::quiet_NaN();
}

}  // namespace gantry::testing
