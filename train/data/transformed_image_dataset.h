#pragma once
// Another dataset's images converted to a channel count and resized as they are read
// (image_resize.h), e.g. MNIST 28x28 grey as 32x32 RGB.
#include <memory>

#include "train/data/image_dataset.h"

namespace gantry::data {

class TransformedImageDataset final : public ImageDataset {
 public:
  // channels 0 / size 0 keep the base dataset's own.
  TransformedImageDataset(std::shared_ptr<const ImageDataset> base, int64_t channels, int64_t size);
  const ImageDatasetInfo& info() const override { return info_; }
  int64_t read(int64_t index, uint8_t* pixels) const override;

 private:
  std::shared_ptr<const ImageDataset> base_;
  ImageDatasetInfo info_;
};

// The options applied to a dataset, as a suffix of its identity (images read differently must not
// share a cache entry): "" when none changes anything.
std::string transform_identity_suffix(int64_t channels, int64_t size);

}  // namespace gantry::data
