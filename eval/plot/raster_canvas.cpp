#include "eval/plot/raster_canvas.h"

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"

// Static linkage keeps these symbols private to this file, so other users of the header cannot clash.
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#include "stb/stb_image_write.h"
#pragma GCC diagnostic pop

namespace gantry::plot {

RasterCanvas::RasterCanvas(int width, int height, Rgb background) : width_(width), height_(height) {
  GANTRY_CHECK(width >= 1 && height >= 1 && width <= 16384 && height <= 16384,
               "RasterCanvas: size must be in [1, 16384], got ", width, "x", height);
  rgb_.resize(static_cast<size_t>(width) * height * 3);
  for (size_t i = 0; i < rgb_.size(); i += 3) {
    rgb_[i] = background.r, rgb_[i + 1] = background.g, rgb_[i + 2] = background.b;
  }
}

Rgb RasterCanvas::pixel(int x, int y) const {
  GANTRY_CHECK(x >= 0 && y >= 0 && x < width_ && y < height_, "RasterCanvas::pixel: (", x, ", ", y,
               ") is outside ", width_, "x", height_);
  const size_t i = (static_cast<size_t>(y) * width_ + x) * 3;
  return {rgb_[i], rgb_[i + 1], rgb_[i + 2]};
}

void RasterCanvas::blend(int x, int y, Rgb color, double alpha) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  alpha = std::clamp(alpha, 0.0, 1.0);
  uint8_t* p = &rgb_[(static_cast<size_t>(y) * width_ + x) * 3];
  const uint8_t c[3] = {color.r, color.g, color.b};
  for (int k = 0; k < 3; ++k) p[k] = static_cast<uint8_t>(std::lround(p[k] + alpha * (c[k] - p[k])));
}

void RasterCanvas::fill_disc(double cx, double cy, double radius, Rgb color, double alpha) {
  const int x0 = static_cast<int>(std::floor(cx - radius)), x1 = static_cast<int>(std::ceil(cx + radius));
  const int y0 = static_cast<int>(std::floor(cy - radius)), y1 = static_cast<int>(std::ceil(cy + radius));
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const double dx = x + 0.5 - cx, dy = y + 0.5 - cy;  // pixel centres
      if (dx * dx + dy * dy <= radius * radius) blend(x, y, color, alpha);
    }
}

void RasterCanvas::stroke_circle(double cx, double cy, double radius, Rgb color, double thickness) {
  const double outer = radius + 0.5 * thickness, inner = std::max(0.0, radius - 0.5 * thickness);
  const int x0 = static_cast<int>(std::floor(cx - outer)), x1 = static_cast<int>(std::ceil(cx + outer));
  const int y0 = static_cast<int>(std::floor(cy - outer)), y1 = static_cast<int>(std::ceil(cy + outer));
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      const double r2 = dx * dx + dy * dy;
      if (r2 <= outer * outer && r2 >= inner * inner) blend(x, y, color);
    }
}

namespace {
void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
}
}  // namespace

std::string RasterCanvas::encode_png() const {
  std::string out;
  const int ok = stbi_write_png_to_func(append_bytes, &out, width_, height_, 3, rgb_.data(), width_ * 3);
  GANTRY_CHECK(ok != 0, "RasterCanvas::encode_png: PNG encoding failed for ", width_, "x", height_);
  return out;
}

}  // namespace gantry::plot
