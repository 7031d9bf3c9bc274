#pragma once
// An unlabelled dataset: every PNG/JPEG file directly inside a folder (sorted by name), decoded when
// read. Without an image size all images must have the same size; with one, each is centre-cropped
// to a square and resized (image_resize.h).
#include <string>
#include <vector>

#include "train/data/image_dataset.h"
#include "train/data/image_resize.h"

namespace gantry::data {

class ImageFolderDataset final : public ImageDataset {
 public:
  // Reads every file's header now, so unreadable files, an empty folder and mixed sizes fail here,
  // naming the files.
  ImageFolderDataset(const std::string& folder, const DatasetOpenOptions& options);
  const ImageDatasetInfo& info() const override { return info_; }
  int64_t read(int64_t index, uint8_t* pixels) const override;

 private:
  struct Entry {
    std::string path;
    ImageShape shape;
  };
  ImageDatasetInfo info_;
  std::vector<Entry> entries_;
};

}  // namespace gantry::data
