#include "train/data/image_resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "engine/core/error.h"

namespace gantry::data {

namespace {

struct Tap {
  int64_t index;
  float weight;
};

// For each output position along one axis, the input positions (relative to the crop start) it reads
// and their weights, which sum to 1.
std::vector<std::vector<Tap>> axis_taps(int64_t in, int64_t out) {
  std::vector<std::vector<Tap>> taps(static_cast<size_t>(out));
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  for (int64_t o = 0; o < out; ++o) {
    auto& t = taps[static_cast<size_t>(o)];
    if (out < in) {  // area: the input interval [o * scale, (o + 1) * scale)
      const double begin = o * scale, end = (o + 1) * scale;
      for (int64_t i = static_cast<int64_t>(std::floor(begin)); i < std::min<int64_t>(in, std::ceil(end)); ++i) {
        const double overlap = std::min<double>(i + 1, end) - std::max<double>(i, begin);
        if (overlap > 0) t.push_back({i, static_cast<float>(overlap / scale)});
      }
    } else {  // bilinear, half-pixel centres
      const double src = std::clamp((o + 0.5) * scale - 0.5, 0.0, static_cast<double>(in - 1));
      const int64_t i0 = static_cast<int64_t>(std::floor(src));
      const int64_t i1 = std::min(i0 + 1, in - 1);
      const float frac = static_cast<float>(src - i0);
      t.push_back({i0, 1.0f - frac});
      if (frac > 0) t.push_back({i1, frac});
    }
  }
  return taps;
}

uint8_t to_byte(float v) { return static_cast<uint8_t>(std::clamp(std::floor(v + 0.5f), 0.0f, 255.0f)); }

}  // namespace

void convert_channels(const uint8_t* src, ImageShape shape, int64_t out_channels, uint8_t* dst) {
  const int64_t plane = shape.height * shape.width;
  if (out_channels == shape.channels) {
    std::memcpy(dst, src, static_cast<size_t>(shape.bytes()));
  } else if (shape.channels == 1 && out_channels == 3) {
    for (int c = 0; c < 3; ++c) std::memcpy(dst + c * plane, src, static_cast<size_t>(plane));
  } else if (shape.channels == 3 && out_channels == 1) {
    for (int64_t i = 0; i < plane; ++i)
      dst[i] = to_byte(0.299f * src[i] + 0.587f * src[plane + i] + 0.114f * src[2 * plane + i]);
  } else {
    GANTRY_FAIL("convert_channels: cannot convert ", shape.channels, " channels to ", out_channels,
                " (1 and 3 are supported)");
  }
}

void crop_and_resize_square(const uint8_t* src, ImageShape shape, int64_t size, uint8_t* dst) {
  GANTRY_CHECK(size > 0 && shape.height > 0 && shape.width > 0, "crop_and_resize_square: bad sizes ", shape.height, "x",
               shape.width, " -> ", size);
  const int64_t side = std::min(shape.height, shape.width);
  const int64_t top = (shape.height - side) / 2, left = (shape.width - side) / 2;
  const auto taps = axis_taps(side, size);
  std::vector<float> rows(static_cast<size_t>(side * size));  // one channel, resized along x only
  for (int64_t c = 0; c < shape.channels; ++c) {
    const uint8_t* plane = src + c * shape.height * shape.width;
    for (int64_t y = 0; y < side; ++y) {
      const uint8_t* row = plane + (top + y) * shape.width + left;
      for (int64_t x = 0; x < size; ++x) {
        float v = 0;
        for (const Tap& t : taps[static_cast<size_t>(x)]) v += t.weight * row[t.index];
        rows[static_cast<size_t>(y * size + x)] = v;
      }
    }
    uint8_t* out = dst + c * size * size;
    for (int64_t y = 0; y < size; ++y)
      for (int64_t x = 0; x < size; ++x) {
        float v = 0;
        for (const Tap& t : taps[static_cast<size_t>(y)]) v += t.weight * rows[static_cast<size_t>(t.index * size + x)];
        out[y * size + x] = to_byte(v);
      }
  }
}

void transform_image(const uint8_t* src, ImageShape shape, int64_t out_channels, int64_t size, uint8_t* dst) {
  if (out_channels == 0) out_channels = shape.channels;
  if (size == 0 || (size == shape.height && size == shape.width)) {
    convert_channels(src, shape, out_channels, dst);
    return;
  }
  std::vector<uint8_t> converted(static_cast<size_t>(out_channels * shape.height * shape.width));
  convert_channels(src, shape, out_channels, converted.data());
  crop_and_resize_square(converted.data(), {out_channels, shape.height, shape.width}, size, dst);
}

}  // namespace gantry::data
