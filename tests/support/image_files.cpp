#include "tests/support/image_files.h"

#include <zlib.h>

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

}  // namespace gantry::testing
