#include "train/data/labelled_dataset_readers.h"

#include <filesystem>

#include "engine/core/error.h"
#include "engine/io/digest.h"
#include "train/data/cifar10_file.h"
#include "train/data/idx_file.h"
#include "train/data/in_memory_image_dataset.h"

namespace gantry::data {

namespace {

std::string identity_of(const std::string& name, const std::vector<FileDigest>& files) {
  std::string text = name + "\n";
  for (const FileDigest& f : files) text += std::filesystem::path(f.path).filename().string() + " " + f.md5 + "\n";
  return io::fnv1a64_hex(text);
}

void check_labels(const std::vector<uint8_t>& labels, const ImageDatasetInfo& info, const std::string& path) {
  for (size_t i = 0; i < labels.size(); ++i)
    GANTRY_CHECK(labels[i] < info.num_classes, "label file '", path, "': label ", int{labels[i]}, " of image ", i,
                 " is not one of the ", info.num_classes, " classes");
}

}  // namespace

LabelledSplit read_idx_split(const std::string& images_path, const std::string& labels_path, ImageDatasetInfo info) {
  IdxArray images = read_idx_file(images_path, 3);
  IdxArray labels = read_idx_file(labels_path, 1);
  GANTRY_CHECK(images.dims[0] == labels.dims[0], "idx files disagree: '", images_path, "' holds ", images.dims[0],
               " images, '", labels_path, "' holds ", labels.dims[0], " labels");
  info.num_classes = static_cast<int64_t>(info.class_names.size());
  check_labels(labels.bytes, info, labels_path);
  info.size = images.dims[0];
  info.channels = 1;
  info.height = images.dims[1];
  info.width = images.dims[2];
  LabelledSplit out;
  out.files = {{images_path, images.md5}, {labels_path, labels.md5}};
  info.identity = identity_of(info.name, out.files);
  out.dataset =
      std::make_shared<InMemoryImageDataset>(std::move(info), std::move(images.bytes), std::move(labels.bytes));
  return out;
}

LabelledSplit read_cifar10_split(const std::vector<std::string>& batch_paths, ImageDatasetInfo info) {
  GANTRY_CHECK(!batch_paths.empty(), "read_cifar10_split: no batch files");
  std::vector<uint8_t> pixels, labels;
  LabelledSplit out;
  info.num_classes = static_cast<int64_t>(info.class_names.size());
  for (const std::string& path : batch_paths) {
    Cifar10Records records = read_cifar10_file(path);  // checks the labels are 0..9
    pixels.insert(pixels.end(), records.pixels.begin(), records.pixels.end());
    labels.insert(labels.end(), records.labels.begin(), records.labels.end());
    out.files.push_back({path, records.md5});
  }
  info.size = static_cast<int64_t>(labels.size());
  info.channels = 3;
  info.height = info.width = kCifar10Side;
  info.identity = identity_of(info.name, out.files);
  out.dataset = std::make_shared<InMemoryImageDataset>(std::move(info), std::move(pixels), std::move(labels));
  return out;
}

}  // namespace gantry::data
