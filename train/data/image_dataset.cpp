#include "train/data/image_dataset.h"

#include <cstdlib>
#include <filesystem>

#include "engine/core/error.h"
#include "train/data/dataset_catalog.h"
#include "train/data/image_folder_dataset.h"
#include "train/data/labelled_dataset_readers.h"
#include "train/data/transformed_image_dataset.h"

namespace gantry::data {

namespace {

namespace fs = std::filesystem;

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

struct NamedSpec {
  const CatalogDataset* dataset = nullptr;
  const CatalogSplit* split = nullptr;
};

// "mnist", "mnist:test": the catalog entry and split; dataset nullptr when the name is not one.
NamedSpec parse_named_spec(const std::string& spec) {
  const size_t colon = spec.find(':');
  NamedSpec out;
  out.dataset = find_catalog_dataset(spec.substr(0, colon));
  if (!out.dataset) return out;
  const std::string split = colon == std::string::npos ? "train" : spec.substr(colon + 1);
  out.split = out.dataset->find_split(split);
  GANTRY_CHECK(out.split != nullptr, "dataset '", spec, "': unknown split '", split, "' (", out.dataset->name,
               " has :train and :test)");
  return out;
}

// A file of the dataset in the cache, raw or gzipped (idx files may be kept as .gz).
std::string cached_file(const fs::path& folder, const CatalogDataset& dataset, const std::string& file,
                        const DatasetOpenOptions& options) {
  const fs::path raw = folder / file;
  if (fs::exists(raw)) return raw.string();
  if (dataset.format == DatasetFormat::idx && fs::exists(raw.string() + ".gz")) return raw.string() + ".gz";
  const std::string cache_option = options.cache_dir.empty() ? "" : " --cache " + options.cache_dir;
  GANTRY_FAIL("dataset ", dataset.name, " is not in the cache (no ", raw.string(), "): run `gantry data fetch ",
              dataset.name, cache_option, "` first (GANTRY_DATA_DIR sets the cache folder)");
}

std::shared_ptr<const ImageDataset> open_named(const NamedSpec& named, const std::string& spec,
                                               const DatasetOpenOptions& options) {
  const CatalogDataset& dataset = *named.dataset;
  const fs::path folder =
      fs::path(options.cache_dir.empty() ? default_dataset_cache_dir() : options.cache_dir) / dataset.name;
  std::vector<std::string> paths;
  for (const std::string& file : named.split->files) paths.push_back(cached_file(folder, dataset, file, options));
  ImageDatasetInfo info;
  info.name = named.split->name == "train" ? dataset.name : dataset.name + ":" + named.split->name;
  info.class_names = dataset.class_names;
  info.source = dataset.source + ", read from " + folder.string();
  const LabelledSplit split =
      dataset.format == DatasetFormat::idx ? read_idx_split(paths[0], paths[1], info) : read_cifar10_split(paths, info);
  for (size_t i = 0; i < split.files.size(); ++i) {
    const CatalogFile& expected = dataset.file(named.split->files[i]);
    GANTRY_CHECK(split.files[i].md5 == expected.md5, "dataset ", dataset.name, ": '", split.files[i].path, "' has md5 ",
                 split.files[i].md5, ", expected ", expected.md5, " (a damaged cache: `gantry data fetch ",
                 dataset.name, " --force` fetches it again)");
  }
  return split.dataset;
}

}  // namespace

std::string default_dataset_cache_dir() {
  if (const std::string dir = env("GANTRY_DATA_DIR"); !dir.empty()) return dir;
  if (const std::string xdg = env("XDG_CACHE_HOME"); !xdg.empty())
    return (fs::path(xdg) / "gantry" / "datasets").string();
  const std::string home = env("HOME");
  GANTRY_CHECK(!home.empty(), "dataset cache: neither GANTRY_DATA_DIR, XDG_CACHE_HOME nor HOME is set");
  return (fs::path(home) / ".cache" / "gantry" / "datasets").string();
}

std::shared_ptr<const ImageDataset> open_image_dataset(const std::string& spec, const DatasetOpenOptions& options) {
  GANTRY_CHECK(options.image_size >= 0, "dataset '", spec, "': image size must be >= 0, got ", options.image_size);
  GANTRY_CHECK(options.channels == 0 || options.channels == 1 || options.channels == 3, "dataset '", spec,
               "': channels must be 1 or 3 (0: native), got ", options.channels);
  const NamedSpec named = parse_named_spec(spec);
  if (!named.dataset) {
    GANTRY_CHECK(fs::is_directory(spec), "dataset '", spec, "': neither a known dataset (", catalog_names(),
                 ", each with :train or :test) nor a folder of images");
    return std::make_shared<ImageFolderDataset>(spec, options);
  }
  std::shared_ptr<const ImageDataset> dataset = open_named(named, spec, options);
  const ImageDatasetInfo& native = dataset->info();
  const bool same_channels = options.channels == 0 || options.channels == native.channels;
  const bool same_size =
      options.image_size == 0 || (options.image_size == native.height && options.image_size == native.width);
  if (same_channels && same_size) return dataset;
  return std::make_shared<TransformedImageDataset>(std::move(dataset), options.channels, options.image_size);
}

}  // namespace gantry::data
