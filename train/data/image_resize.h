#pragma once
// Channel conversion, centre crop and resizing of one uint8 CHW image.
//
// Resizing is separable. Downscaling (output smaller than input along an axis) is area averaging: each
// output pixel is the mean of the input area it covers, with fractional weights for partly covered
// pixels, which is the antialiased box filter (no aliasing from skipped pixels). Upscaling is bilinear
// with half-pixel centres (src = (dst + 0.5) * in / out - 0.5, clamped at the borders), as PyTorch's
// interpolate(mode="bilinear", align_corners=False). Results are rounded to the nearest integer.
#include <cstdint>

namespace gantry::data {

struct ImageShape {
  int64_t channels = 0, height = 0, width = 0;
  int64_t bytes() const { return channels * height * width; }
};

// 1 -> 3 replicates the grey plane; 3 -> 1 is the luma 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, as
// PIL's convert("L")); equal counts copy.
void convert_channels(const uint8_t* src, ImageShape shape, int64_t out_channels, uint8_t* dst);

// Crops the centred square of side min(height, width) (offsets rounded down) and resizes it to
// size x size.
void crop_and_resize_square(const uint8_t* src, ImageShape shape, int64_t size, uint8_t* dst);

// convert_channels, then crop_and_resize_square when size > 0 (else the native size is kept).
// out_channels 0 keeps the image's own. dst holds out_channels * size * size bytes.
void transform_image(const uint8_t* src, ImageShape shape, int64_t out_channels, int64_t size, uint8_t* dst);

}  // namespace gantry::data
