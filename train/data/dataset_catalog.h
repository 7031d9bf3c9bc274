#pragma once
// The datasets gantry knows by name: their files in the dataset cache, the md5 of each file, the
// splits, class names and where `gantry data fetch` gets them (docs/datasets.md).
#include <cstdint>
#include <string>
#include <vector>

namespace gantry::data {

enum class DatasetFormat { idx, cifar10 };

struct CatalogFile {
  std::string name;  // in <cache>/<dataset>/
  std::string md5;   // of the raw (uncompressed) file
  int64_t bytes = 0;
};

struct CatalogSplit {
  std::string name;                // "train", "test"
  std::vector<std::string> files;  // idx: {images, labels}; cifar10: the batch files in order
  int64_t size = 0;
};

struct CatalogDataset {
  std::string name;  // "mnist", "fashion-mnist", "cifar10"
  DatasetFormat format;
  std::string source;  // where fetch takes it from, for people
  std::vector<CatalogFile> files;
  std::vector<CatalogSplit> splits;
  std::vector<std::string> class_names;

  const CatalogFile& file(const std::string& file_name) const;
  const CatalogSplit* find_split(const std::string& split_name) const;
};

const std::vector<CatalogDataset>& dataset_catalog();
// nullptr when `name` is not a known dataset.
const CatalogDataset* find_catalog_dataset(const std::string& name);
// "mnist, fashion-mnist, cifar10"
std::string catalog_names();

}  // namespace gantry::data
