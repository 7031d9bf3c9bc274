#pragma once
// Whole labelled splits read into memory: an idx image file with its label file (MNIST,
// Fashion-MNIST), or CIFAR-10 batch files. The info's identity digests the files' md5s.
#include <memory>
#include <string>
#include <vector>

#include "train/data/image_dataset.h"

namespace gantry::data {

struct FileDigest {
  std::string path, md5;
};

struct LabelledSplit {
  std::shared_ptr<const ImageDataset> dataset;
  std::vector<FileDigest> files;  // what was read, in order
};

// `info` gives the name, classes and source; sizes and identity are filled in. Throws gantry::Error
// naming the files when their counts disagree or a label is not a class.
LabelledSplit read_idx_split(const std::string& images_path, const std::string& labels_path, ImageDatasetInfo info);
LabelledSplit read_cifar10_split(const std::vector<std::string>& batch_paths, ImageDatasetInfo info);

}  // namespace gantry::data
