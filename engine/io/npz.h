#pragma once
// NumPy .npy arrays and .npz archives (a zip of NAME.npy members), so generated images and statistics
// move to and from NumPy-based tools (FID implementations read uint8 [N, H, W, C] arrays and
// pytorch-fid's statistics files hold float64 `mu` and `sigma`).
//
// Writing: .npy format version 1.0, little-endian, C order, members stored uncompressed.
// Reading: numpy.save / savez / savez_compressed output: .npy versions 1.0, 2.0 and 3.0, dtypes <f4,
// <f8, <i8 and |u1 (u8), C or Fortran order (returned contiguous in C order), members stored or
// deflated. Anything else (big-endian, other dtypes, pickled object arrays, bytes after the data) is
// refused with a gantry::Error naming the file, the member and the problem.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/tensor.h"

namespace gantry::io {

// Members are written in the order given; tensors are copied to contiguous CPU memory. Dtypes: u8,
// i64, f32, f64. Written atomically.
void save_npz(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& arrays);
// The bytes of one .npy member for `t`.
std::string npy_bytes(const Tensor& t);

// The arrays of a .npz file in archive order, named without the ".npy" suffix; contiguous CPU tensors.
std::vector<std::pair<std::string, Tensor>> load_npz(const std::string& path);
// The same from the archive's bytes; `source` names it in errors.
std::vector<std::pair<std::string, Tensor>> parse_npz(std::string_view bytes, const std::string& source = "<memory>");
// One .npy file's array (`source` names it in errors).
Tensor parse_npy(std::string_view bytes, const std::string& source = "<memory>");
Tensor load_npy(const std::string& path);

}  // namespace gantry::io
