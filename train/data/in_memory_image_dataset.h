#pragma once
// A labelled dataset whose decoded pixels are all in memory (MNIST, CIFAR-10: tens of MB).
#include <cstdint>
#include <vector>

#include "train/data/image_dataset.h"

namespace gantry::data {

class InMemoryImageDataset final : public ImageDataset {
 public:
  // pixels: info.size images of channels*height*width bytes (CHW); labels: one per image.
  InMemoryImageDataset(ImageDatasetInfo info, std::vector<uint8_t> pixels, std::vector<uint8_t> labels);
  const ImageDatasetInfo& info() const override { return info_; }
  int64_t read(int64_t index, uint8_t* pixels) const override;

 private:
  ImageDatasetInfo info_;
  std::vector<uint8_t> pixels_;
  std::vector<uint8_t> labels_;
  int64_t image_bytes_;
};

// Throws gantry::Error naming the dataset when index is outside [0, size).
void check_image_index(const ImageDatasetInfo& info, int64_t index);

}  // namespace gantry::data
