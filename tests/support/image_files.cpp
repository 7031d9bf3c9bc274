#include "tests/support/image_files.h"

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "stb/stb_image_write.h"
#pragma GCC diagnostic pop

namespace gantry::testing {

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

void write_idx_file(const std::string& path, uint32_t magic, const std::vector<uint32_t>& dims,
                    const std::vector<uint8_t>& bytes, bool gzip) {
  std::string data;
  const auto put32 = [&](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) data.push_back(static_cast<char>((v >> shift) & 0xffu));
  };
  put32(magic);
  for (uint32_t d : dims) put32(d);
  data.append(bytes.begin(), bytes.end());
  if (!gzip) return write_bytes(path, data);
  gzFile file = gzopen(path.c_str(), "wb");
  if (!file || gzwrite(file, data.data(), static_cast<unsigned>(data.size())) != static_cast<int>(data.size()))
    throw std::runtime_error("cannot write " + path);
  gzclose(file);
}

void write_cifar10_file(const std::string& path, const std::vector<uint8_t>& labels,
                        const std::vector<uint8_t>& pixels) {
  std::string data;
  for (size_t i = 0; i < labels.size(); ++i) {
    data.push_back(static_cast<char>(labels[i]));
    data.append(pixels.begin() + static_cast<long>(i * 3072), pixels.begin() + static_cast<long>((i + 1) * 3072));
  }
  write_bytes(path, data);
}

void write_png(const std::string& path, int width, int height, int channels, const std::vector<uint8_t>& hwc) {
  if (!stbi_write_png(path.c_str(), width, height, channels, hwc.data(), width * channels))
    throw std::runtime_error("cannot write " + path);
}

void write_jpeg(const std::string& path, int width, int height, int channels, const std::vector<uint8_t>& hwc) {
  if (!stbi_write_jpg(path.c_str(), width, height, channels, hwc.data(), 100))
    throw std::runtime_error("cannot write " + path);
}

void write_patterned_png_folder(const std::string& folder, int count, int side) {
  std::filesystem::create_directories(folder);
  for (int i = 0; i < count; ++i) {
    std::vector<uint8_t> hwc(static_cast<size_t>(side * side * 3));
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x)
        for (int c = 0; c < 3; ++c)
          hwc[(y * side + x) * 3 + c] =
              static_cast<uint8_t>((x * (i % 5 + 1) + y * (c + 1) * (i % 3 + 1) + 40 * i) % 256);
    write_png(folder + "/img" + std::to_string(i) + ".png", side, side, 3, hwc);
  }
}

}  // namespace gantry::testing
