// Pictures of image batches and the .npz export: pixel values and layout checked by decoding the
// bytes again.
#include <gtest/gtest.h>

#include <cstring>

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include "stb/stb_image.h"

#include "engine/io/npz.h"
#include "engine/ops/ops.h"
#include "eval/plot/image_grid.h"
#include "eval/plot/line_chart.h"

namespace gantry {
namespace {

struct Decoded {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
};

Decoded decode(const std::string& png) {
  Decoded d;
  int channels = 0;
  uint8_t* p = stbi_load_from_memory(reinterpret_cast<const uint8_t*>(png.data()), static_cast<int>(png.size()),
                                     &d.width, &d.height, &channels, 3);
  EXPECT_NE(p, nullptr);
  if (p) d.rgb.assign(p, p + d.width * d.height * 3);
  stbi_image_free(p);
  return d;
}

TEST(ImageGrid, AGridPlacesEachImageInItsCellWithValuesMappedFromMinusOneToOne) {
  // Three 2x2 grey images: all -1 (black), all 0 (mid grey), all 1 (white); 2 columns, gap 1.
  const Tensor images = cat({full({1, 1, 2, 2}, -1.0), full({1, 1, 2, 2}, 0.0), full({1, 1, 2, 2}, 1.0)}, 0);
  const Decoded d = decode(plot::render_image_grid_png(images, 2, 1));
  ASSERT_EQ(d.width, 2 * 3 + 1);
  ASSERT_EQ(d.height, 2 * 3 + 1);
  const auto at = [&](int x, int y) { return d.rgb[(y * d.width + x) * 3]; };
  EXPECT_EQ(at(1, 1), 0);      // image 0
  EXPECT_EQ(at(4, 1), 128);    // image 1: round(127.5)
  EXPECT_EQ(at(1, 4), 255);    // image 2, second row
  EXPECT_EQ(at(0, 0), 255);    // the gap is white
}

TEST(ImageGrid, RgbImagesKeepTheirChannels) {
  Tensor image = zeros({1, 3, 1, 1});
  image.data_ptr<float>()[0] = 1.0f;   // red full
  image.data_ptr<float>()[1] = -1.0f;  // no green
  image.data_ptr<float>()[2] = 0.0f;
  const Decoded d = decode(plot::render_image_png(image, 0));
  ASSERT_EQ(d.rgb.size(), 3u);
  EXPECT_EQ(d.rgb[0], 255);
  EXPECT_EQ(d.rgb[1], 0);
  EXPECT_EQ(d.rgb[2], 128);
}

TEST(ImageGrid, BadBatchesAreRefused) {
  EXPECT_THROW(plot::render_image_grid_png(zeros({2, 2, 4, 4})), Error);  // 2 channels
  EXPECT_THROW(plot::render_image_grid_png(zeros({4, 4})), Error);
}

TEST(ImageGrid, Uint8NhwcIsTheLayoutFidToolsRead) {
  Tensor images = zeros({1, 3, 1, 2});
  float* p = images.data_ptr<float>();
  p[0] = 1.0f;   // R at x=0
  p[3] = -1.0f;  // G at x=1
  const Tensor u8 = plot::images_to_uint8_nhwc(images);
  ASSERT_EQ(u8.shape(), (Shape{1, 1, 2, 3}));
  const uint8_t* q = u8.data_ptr<uint8_t>();
  EXPECT_EQ(q[0], 255);  // x=0: R
  EXPECT_EQ(q[4], 0);    // x=1: G
}

TEST(Npz, TheArchiveIsAStoredZipOfNpyMembersWithNumpysHeader) {
  const Tensor a = from_vector(std::vector<int64_t>{1, 2, 3}, {3});
  const std::string npy = io::npy_bytes(a);
  EXPECT_EQ(npy.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ((npy.size() - 3 * 8) % 64, 0u);  // header padded to 64 bytes, as NumPy writes it
  EXPECT_NE(npy.find("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }"), std::string::npos);
  EXPECT_NE(io::npy_bytes(zeros({2, 3}, DType::f64)).find("'shape': (2, 3)"), std::string::npos);
}

TEST(LineChart, PanelsRenderAndEmptyInputIsRefused) {
  const std::string png = plot::render_line_panels_png(
      {plot::LinePanel{{{{0, 1, 2}, {1, 3, 2}, {200, 0, 0}, "loss"}}, "title"}}, "step", 200, 100);
  const Decoded d = decode(png);
  EXPECT_EQ(d.width, 200);
  EXPECT_GT(d.height, 100);  // the x-axis band under the panels
  int red = 0;
  for (size_t i = 0; i < d.rgb.size(); i += 3)
    if (d.rgb[i] > 150 && d.rgb[i + 1] < 100) ++red;
  EXPECT_GT(red, 20);  // the polyline is drawn
  EXPECT_THROW(plot::render_line_panels_png({}), Error);
  EXPECT_THROW(plot::render_line_panels_png({plot::LinePanel{{{{0, 1}, {1}, {0, 0, 0}}}}}), Error);
}

}  // namespace
}  // namespace gantry
