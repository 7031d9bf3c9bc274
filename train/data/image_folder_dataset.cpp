#include "train/data/image_folder_dataset.h"

#include <algorithm>
#include <filesystem>

#include "engine/core/error.h"
#include "engine/io/digest.h"
#include "train/data/image_file_decoder.h"
#include "train/data/in_memory_image_dataset.h"
#include "train/data/transformed_image_dataset.h"

namespace gantry::data {

namespace {

bool is_image_file_name(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

std::string shape_text(const ImageShape& s) { return std::to_string(s.width) + "x" + std::to_string(s.height); }

}  // namespace

ImageFolderDataset::ImageFolderDataset(const std::string& folder, const DatasetOpenOptions& options) {
  namespace fs = std::filesystem;
  GANTRY_CHECK(fs::is_directory(folder), "image folder '", folder, "': not a folder");
  std::vector<fs::path> files;
  for (const auto& item : fs::directory_iterator(folder))
    if (item.is_regular_file() && is_image_file_name(item.path())) files.push_back(item.path());
  GANTRY_CHECK(!files.empty(), "image folder '", folder, "': holds no PNG or JPEG images (.png, .jpg, .jpeg)");
  std::sort(files.begin(), files.end());

  std::string listing;
  bool all_grey = true;
  for (const fs::path& file : files) {
    const ImageShape shape = probe_image_file(file.string());
    all_grey = all_grey && shape.channels <= 2;
    entries_.push_back({file.string(), shape});
    listing += file.filename().string() + " " + std::to_string(fs::file_size(file)) + "\n";
  }
  const Entry& first = entries_.front();
  if (options.image_size == 0)
    for (const Entry& e : entries_)
      GANTRY_CHECK(e.shape.height == first.shape.height && e.shape.width == first.shape.width, "image folder '", folder,
                   "': images of different sizes: '", first.path, "' is ", shape_text(first.shape), ", '", e.path,
                   "' is ", shape_text(e.shape), " (give an image size to resize them all)");
  info_.name = folder;
  info_.source = "folder " + folder;
  info_.size = static_cast<int64_t>(entries_.size());
  info_.channels = options.channels > 0 ? options.channels : (all_grey ? 1 : 3);
  info_.height = options.image_size > 0 ? options.image_size : first.shape.height;
  info_.width = options.image_size > 0 ? options.image_size : first.shape.width;
  info_.identity =
      io::fnv1a64_hex("folder\n" + listing + transform_identity_suffix(info_.channels, options.image_size));
}

int64_t ImageFolderDataset::read(int64_t index, uint8_t* pixels) const {
  check_image_index(info_, index);
  ImageShape shape;
  const std::vector<uint8_t> decoded =
      decode_image_file(entries_[static_cast<size_t>(index)].path, info_.channels, &shape);
  const bool resize = shape.height != info_.height || shape.width != info_.width;
  transform_image(decoded.data(), shape, info_.channels, resize ? info_.height : 0, pixels);
  return -1;
}

}  // namespace gantry::data
