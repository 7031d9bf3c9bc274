#pragma once
// A minimal RGB canvas for diagnostic plots: filled and outlined circles with alpha blending, and
// PNG encoding (stb_image_write).
#include <cstdint>
#include <string>
#include <vector>

namespace gantry::plot {

struct Rgb {
  uint8_t r, g, b;
};

class RasterCanvas {
 public:
  RasterCanvas(int width, int height, Rgb background);
  int width() const { return width_; }
  int height() const { return height_; }
  Rgb pixel(int x, int y) const;
  // Blends `color` over the pixel with opacity alpha in [0, 1]; pixels outside the canvas are ignored.
  void blend(int x, int y, Rgb color, double alpha = 1.0);
  void fill_disc(double cx, double cy, double radius, Rgb color, double alpha = 1.0);
  // A ring of the given thickness (in pixels) at `radius`.
  void stroke_circle(double cx, double cy, double radius, Rgb color, double thickness = 1.0);
  // The canvas as PNG bytes.
  std::string encode_png() const;

 private:
  int width_, height_;
  std::vector<uint8_t> rgb_;
};

}  // namespace gantry::plot
