#pragma once
// Pictures of generated or real images: a batch [N, C, H, W] with values in [-1, 1] (C = 1 or 3) as
// one PNG grid with a thin gap between the images, or as one PNG per image.
#include <cstdint>
#include <string>

#include "engine/core/tensor.h"

namespace gantry::plot {

// PNG bytes of the grid: `columns` images per row (0: a near-square grid).
std::string render_image_grid_png(const Tensor& images, int64_t columns = 0, int gap = 2);
// Written atomically.
void write_image_grid_png(const std::string& path, const Tensor& images, int64_t columns = 0, int gap = 2);
// Image i of the batch alone, as PNG bytes.
std::string render_image_png(const Tensor& images, int64_t index);
// The batch as uint8 [N, H, W, C] (the layout image tools and FID implementations read).
Tensor images_to_uint8_nhwc(const Tensor& images);
// The values the PNG of each image holds, back as f32 [N, C, H, W] in [0, 1] (k / 255): what FID
// tools see when they read saved images.
Tensor images_as_saved_unit_range(const Tensor& images);

}  // namespace gantry::plot
