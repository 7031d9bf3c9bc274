#pragma once
// The safetensors format (8-byte little-endian header length, a JSON header mapping each name to
// {dtype, shape, data_offsets}, optional "__metadata__" of string pairs, then the raw little-endian
// bytes), so weights move between gantry and PyTorch. Loading validates everything and throws
// gantry::Error naming the file and the problem; it never reads out of bounds.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/tensor.h"

namespace gantry::io {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using Metadata = std::map<std::string, std::string>;

struct TensorFile {
  NamedTensors tensors;  // in file (data offset) order
  Metadata metadata;

  bool contains(const std::string& name) const;
  // Throws naming the missing tensor.
  const Tensor& at(const std::string& name) const;
};

// Serialises tensors (copied to the CPU, contiguous) in the given order. Names must be unique.
std::string serialize_safetensors(const NamedTensors& tensors, const Metadata& metadata = {});
TensorFile parse_safetensors(const std::string& bytes, const std::string& source = "<memory>");

// Written atomically (io::write_file_atomic).
void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata = {});
TensorFile load_safetensors(const std::string& path);

}  // namespace gantry::io
