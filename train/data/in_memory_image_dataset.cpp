#include "train/data/in_memory_image_dataset.h"

#include <cstring>

#include "engine/core/error.h"

namespace gantry::data {

void check_image_index(const ImageDatasetInfo& info, int64_t index) {
  GANTRY_CHECK(index >= 0 && index < info.size, "dataset '", info.name, "': image index ", index, " out of range [0, ",
               info.size, ")");
}

InMemoryImageDataset::InMemoryImageDataset(ImageDatasetInfo info, std::vector<uint8_t> pixels,
                                           std::vector<uint8_t> labels)
    : info_(std::move(info)),
      pixels_(std::move(pixels)),
      labels_(std::move(labels)),
      image_bytes_(info_.channels * info_.height * info_.width) {
  GANTRY_CHECK(static_cast<int64_t>(pixels_.size()) == info_.size * image_bytes_ &&
                   static_cast<int64_t>(labels_.size()) == info_.size,
               "dataset '", info_.name, "': internal error: ", pixels_.size(), " pixel bytes and ", labels_.size(),
               " labels for ", info_.size, " images");
}

int64_t InMemoryImageDataset::read(int64_t index, uint8_t* pixels) const {
  check_image_index(info_, index);
  std::memcpy(pixels, pixels_.data() + index * image_bytes_, static_cast<size_t>(image_bytes_));
  return labels_[static_cast<size_t>(index)];
}

}  // namespace gantry::data
