#include "eval/plot/image_grid.h"

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "eval/plot/raster_canvas.h"

namespace gantry::plot {

namespace {

// The batch as contiguous f32 on the CPU, checked.
Tensor checked_images(const Tensor& images) {
  GANTRY_CHECK(images.defined() && images.dim() == 4, "image grid: expected images [N, C, H, W]");
  const int64_t c = images.size(1);
  GANTRY_CHECK(c == 1 || c == 3, "image grid: expected 1 or 3 channels, got ", c);
  GANTRY_CHECK(images.size(0) >= 1, "image grid: no images");
  return images.detach().to(kCPU).to(DType::f32).contiguous();
}

uint8_t to_byte(float v) {
  const float scaled = std::round((std::clamp(v, -1.0f, 1.0f) + 1.0f) * 127.5f);
  return static_cast<uint8_t>(scaled);
}

void draw_image(RasterCanvas& canvas, const Tensor& batch, int64_t index, int x0, int y0) {
  const int64_t c = batch.size(1), h = batch.size(2), w = batch.size(3);
  const float* p = batch.data_ptr<float>() + index * c * h * w;
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      const int64_t at = y * w + x;
      const uint8_t r = to_byte(p[at]);
      const Rgb color = c == 1 ? Rgb{r, r, r} : Rgb{r, to_byte(p[h * w + at]), to_byte(p[2 * h * w + at])};
      canvas.blend(x0 + static_cast<int>(x), y0 + static_cast<int>(y), color);
    }
}

}  // namespace

std::string render_image_grid_png(const Tensor& images, int64_t columns, int gap) {
  const Tensor batch = checked_images(images);
  const int64_t n = batch.size(0), h = batch.size(2), w = batch.size(3);
  if (columns <= 0) columns = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  const int64_t rows = (n + columns - 1) / columns;
  RasterCanvas canvas(static_cast<int>(columns * (w + gap) + gap), static_cast<int>(rows * (h + gap) + gap),
                      Rgb{255, 255, 255});
  for (int64_t i = 0; i < n; ++i)
    draw_image(canvas, batch, i, static_cast<int>(gap + (i % columns) * (w + gap)),
               static_cast<int>(gap + (i / columns) * (h + gap)));
  return canvas.encode_png();
}

void write_image_grid_png(const std::string& path, const Tensor& images, int64_t columns, int gap) {
  io::write_file_atomic(path, render_image_grid_png(images, columns, gap));
}

std::string render_image_png(const Tensor& images, int64_t index) {
  const Tensor batch = checked_images(images);
  GANTRY_CHECK(index >= 0 && index < batch.size(0), "image grid: image ", index, " of ", batch.size(0));
  RasterCanvas canvas(static_cast<int>(batch.size(3)), static_cast<int>(batch.size(2)), Rgb{0, 0, 0});
  draw_image(canvas, batch, index, 0, 0);
  return canvas.encode_png();
}

Tensor images_to_uint8_nhwc(const Tensor& images) {
  const Tensor batch = checked_images(images);
  const int64_t n = batch.size(0), c = batch.size(1), h = batch.size(2), w = batch.size(3);
  Tensor out = empty({n, h, w, c}, DType::u8);
  const float* src = batch.data_ptr<float>();
  uint8_t* dst = out.data_ptr<uint8_t>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
          dst[((i * h + y) * w + x) * c + ch] = to_byte(src[((i * c + ch) * h + y) * w + x]);
  return out;
}

Tensor images_as_saved_unit_range(const Tensor& images) {
  const Tensor batch = checked_images(images);
  Tensor out = empty(batch.shape(), DType::f32);
  const float* src = batch.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  for (int64_t i = 0; i < batch.numel(); ++i) dst[i] = static_cast<float>(to_byte(src[i])) / 255.0f;
  return out;
}

}  // namespace gantry::plot
