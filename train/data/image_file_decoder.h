#pragma once
// PNG and JPEG files to uint8 CHW pixels, through the vendored stb_image (compiled once, in
// image_file_decoder.cpp, for PNG and JPEG only).
#include <cstdint>
#include <string>
#include <vector>

#include "train/data/image_resize.h"

namespace gantry::data {

// The size and channel count the file's header declares, without decoding it (1 grey, 2 grey+alpha,
// 3 RGB, 4 RGBA). Throws gantry::Error naming the file when it is not a readable PNG or JPEG.
ImageShape probe_image_file(const std::string& path);

// Decodes the file to `channels` (1 or 3; alpha is dropped) in CHW order. Throws gantry::Error naming
// the file and stb_image's reason when it cannot be decoded.
std::vector<uint8_t> decode_image_file(const std::string& path, int64_t channels, ImageShape* shape);

}  // namespace gantry::data
