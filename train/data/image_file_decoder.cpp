#include "train/data/image_file_decoder.h"

#include <memory>

#include "engine/core/error.h"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "stb/stb_image.h"
#pragma GCC diagnostic pop

namespace gantry::data {

ImageShape probe_image_file(const std::string& path) {
  int width = 0, height = 0, channels = 0;
  GANTRY_CHECK(stbi_info(path.c_str(), &width, &height, &channels) == 1, "image '", path,
               "': not a readable PNG or JPEG (", stbi_failure_reason(), ")");
  return {channels, height, width};
}

std::vector<uint8_t> decode_image_file(const std::string& path, int64_t channels, ImageShape* shape) {
  GANTRY_CHECK(channels == 1 || channels == 3, "decode_image_file: channels must be 1 or 3, got ", channels);
  int width = 0, height = 0, file_channels = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> hwc(
      stbi_load(path.c_str(), &width, &height, &file_channels, static_cast<int>(channels)), &stbi_image_free);
  GANTRY_CHECK(hwc != nullptr, "image '", path, "': cannot decode (", stbi_failure_reason(), ")");
  const int64_t plane = int64_t{width} * height;
  std::vector<uint8_t> chw(static_cast<size_t>(plane * channels));
  for (int64_t i = 0; i < plane; ++i)
    for (int64_t c = 0; c < channels; ++c) chw[static_cast<size_t>(c * plane + i)] = hwc.get()[i * channels + c];
  *shape = {channels, height, width};
  return chw;
}

}  // namespace gantry::data
