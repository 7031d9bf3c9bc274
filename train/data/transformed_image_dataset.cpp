#include "train/data/transformed_image_dataset.h"

#include <vector>

#include "engine/io/digest.h"
#include "train/data/image_resize.h"

namespace gantry::data {

std::string transform_identity_suffix(int64_t channels, int64_t size) {
  std::string suffix;
  if (channels > 0) suffix += ";channels=" + std::to_string(channels);
  if (size > 0) suffix += ";size=" + std::to_string(size) + ";resize=area-down-bilinear-up";
  return suffix;
}

TransformedImageDataset::TransformedImageDataset(std::shared_ptr<const ImageDataset> base, int64_t channels,
                                                 int64_t size)
    : base_(std::move(base)), info_(base_->info()) {
  if (channels > 0) info_.channels = channels;
  if (size > 0) info_.height = info_.width = size;
  info_.identity = io::fnv1a64_hex(base_->info().identity + transform_identity_suffix(channels, size));
}

int64_t TransformedImageDataset::read(int64_t index, uint8_t* pixels) const {
  const ImageDatasetInfo& in = base_->info();
  thread_local std::vector<uint8_t> native;
  native.resize(static_cast<size_t>(in.channels * in.height * in.width));
  const int64_t label = base_->read(index, native.data());
  transform_image(native.data(), {in.channels, in.height, in.width}, info_.channels,
                  info_.height == in.height && info_.width == in.width ? 0 : info_.height, pixels);
  return label;
}

}  // namespace gantry::data
