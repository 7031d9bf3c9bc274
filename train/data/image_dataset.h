#pragma once
// Image datasets behind one interface: MNIST, Fashion-MNIST and CIFAR-10 from the dataset cache
// (filled by `gantry data fetch`, docs/datasets.md), or any folder of PNG/JPEG images, optionally
// resized and converted to a common channel count as they are read.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gantry::data {

struct ImageDatasetInfo {
  std::string name;  // "mnist", "mnist:test", "fashion-mnist", "cifar10", "cifar10:test", or the folder path
  int64_t size = 0, channels = 0, height = 0, width = 0;
  int64_t num_classes = 0;  // 0: unlabelled (a plain folder)
  std::vector<std::string> class_names;
  // A stable digest of what was read (file md5s / folder listing + sizes), for run identity and caches.
  std::string identity;
  std::string source;  // where the pixels came from (files or folder), for people
};

class ImageDataset {
 public:
  virtual ~ImageDataset() = default;
  virtual const ImageDatasetInfo& info() const = 0;
  // Image `index` as uint8, CHW layout (channels*height*width bytes) into `pixels`; returns its class
  // label (-1 when unlabelled). Safe to call concurrently from several threads.
  virtual int64_t read(int64_t index, uint8_t* pixels) const = 0;
};

struct DatasetOpenOptions {
  // 0: native size; else every image is resized (and, for non-square folder images, centre-cropped)
  // to image_size x image_size.
  int64_t image_size = 0;
  int64_t channels = 0;        // 0: native; 1 or 3 converts (grey<->RGB)
  std::string cache_dir = {};  // "": default_dataset_cache_dir()
};

// spec: "mnist", "mnist:train", "mnist:test", "fashion-mnist[:train|:test]", "cifar10[:train|:test]",
// or a folder of PNG/JPEG images. Throws gantry::Error naming the file for anything unreadable, and
// the `gantry data fetch` command to run for a named dataset that is not in the cache.
std::shared_ptr<const ImageDataset> open_image_dataset(const std::string& spec, const DatasetOpenOptions& options = {});

// $GANTRY_DATA_DIR, else $XDG_CACHE_HOME/gantry/datasets, else ~/.cache/gantry/datasets.
std::string default_dataset_cache_dir();

}  // namespace gantry::data
