#pragma once
// NumPy .npz archives (numpy.savez layout: a zip of NAME.npy members, stored uncompressed), so
// generated images and statistics move to NumPy-based tools (FID implementations read uint8
// [N, H, W, C] arrays). .npy format version 1.0, little-endian, C order.
#include <string>
#include <utility>
#include <vector>

#include "engine/core/tensor.h"

namespace gantry::io {

// Members are written in the order given; tensors are copied to contiguous CPU memory. Dtypes: u8,
// i64, f32, f64. Written atomically.
void save_npz(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& arrays);
// The bytes of one .npy member for `t`.
std::string npy_bytes(const Tensor& t);

}  // namespace gantry::io
