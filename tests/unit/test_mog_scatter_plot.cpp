// The raster canvas and the MoG scatter plot: pixels land where the data are, and the PNG decodes
// back to the same pixels.
#include <gtest/gtest.h>

#include <vector>

#include "engine/ops/ops.h"
#include "eval/plot/mog_scatter_plot.h"
#include "eval/plot/raster_canvas.h"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "stb/stb_image.h"
#pragma GCC diagnostic pop

namespace gantry {
namespace {

struct Decoded {
  int w = 0, h = 0;
  std::vector<uint8_t> rgb;
  plot::Rgb at(int x, int y) const {
    const size_t i = (static_cast<size_t>(y) * w + x) * 3;
    return {rgb[i], rgb[i + 1], rgb[i + 2]};
  }
};

Decoded decode(const std::string& png) {
  Decoded d;
  int channels = 0;
  unsigned char* data = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(png.data()),
                                              static_cast<int>(png.size()), &d.w, &d.h, &channels, 3);
  if (data) {
    d.rgb.assign(data, data + static_cast<size_t>(d.w) * d.h * 3);
    stbi_image_free(data);
  }
  return d;
}

bool is_white(plot::Rgb c) { return c.r == 255 && c.g == 255 && c.b == 255; }

TEST(RasterCanvas, DiscsAndRingsLandWhereAskedAndSurvivePng) {
  plot::RasterCanvas canvas(40, 30, {255, 255, 255});
  canvas.fill_disc(10, 10, 3, {0, 0, 200});
  canvas.stroke_circle(30, 20, 6, {200, 0, 0}, 1.0);
  EXPECT_EQ(canvas.pixel(10, 10).b, 200);
  EXPECT_TRUE(is_white(canvas.pixel(20, 10)));
  EXPECT_EQ(canvas.pixel(35, 20).r, 200);  // on the ring: pixel centre (35.5, 20.5) is 5.52 from (30, 20)
  EXPECT_TRUE(is_white(canvas.pixel(30, 20)));  // ring centre stays empty
  const Decoded d = decode(canvas.encode_png());
  ASSERT_EQ(d.w, 40);
  ASSERT_EQ(d.h, 30);
  for (int y = 0; y < 30; ++y)
    for (int x = 0; x < 40; ++x) {
      const auto a = canvas.pixel(x, y), b = d.at(x, y);
      ASSERT_TRUE(a.r == b.r && a.g == b.g && a.b == b.b) << "pixel " << x << "," << y;
    }
  EXPECT_THROW(canvas.pixel(40, 0), Error);
  EXPECT_THROW(plot::RasterCanvas(0, 10, {0, 0, 0}), Error);
}

TEST(MogScatterPlot, SamplesAppearAtTheirModeOnly) {
  data::MixtureOfGaussians mix(4);  // centres (+-1, +-1); the plot spans [-3, 3]^2 (one spacing margin)
  std::vector<float> xy;
  for (int i = 0; i < 50; ++i) xy.push_back(1.0f), xy.push_back(1.0f);  // all at the top-right mode
  const Decoded d = decode(plot::render_mog_scatter_png(from_vector(xy, {50, 2}), mix, 200));
  ASSERT_EQ(d.w, 200);
  // (1, 1) maps to pixel (133.3, 66.7) with y up; the dots darken it; the empty (-1, -1) centre is white.
  const auto hit = d.at(133, 66), empty_centre = d.at(66, 133);
  EXPECT_LT(hit.r, 120);
  EXPECT_GT(hit.b, hit.r);
  EXPECT_TRUE(is_white(empty_centre));
}

}  // namespace
}  // namespace gantry
