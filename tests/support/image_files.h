#pragma once
// Small dataset files that tests write themselves: idx arrays (raw or gzipped), CIFAR-10 records, and
// PNG/JPEG images (through stb_image_write).
#include <cstdint>
#include <string>
#include <vector>

namespace gantry::testing {

// An idx file: magic (0x00000803 images, 0x00000801 labels), the dims, then the bytes.
void write_idx_file(const std::string& path, uint32_t magic, const std::vector<uint32_t>& dims,
                    const std::vector<uint8_t>& bytes, bool gzip = false);
// Records <label><3072 pixel bytes> back to back; pixels holds labels.size() CHW 3x32x32 images.
void write_cifar10_file(const std::string& path, const std::vector<uint8_t>& labels,
                        const std::vector<uint8_t>& pixels);
// From HWC pixels with `channels` interleaved channels.
void write_png(const std::string& path, int width, int height, int channels, const std::vector<uint8_t>& hwc);
void write_jpeg(const std::string& path, int width, int height, int channels, const std::vector<uint8_t>& hwc);
void write_bytes(const std::string& path, const std::string& bytes);
// A folder of `count` RGB side x side PNGs (img0.png ...) with a few smooth patterns, so batches differ.
void write_patterned_png_folder(const std::string& folder, int count, int side);

}  // namespace gantry::testing
