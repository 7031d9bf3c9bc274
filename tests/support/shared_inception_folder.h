#pragma once
// The shared folder of FID Inception material that lives beside the repository (real key table,
// truncated real checkpoint, the published per-layer folded weights): $GANTRY_SHARED_DIR, by default
// `shared` beside the repository. Tests that need it skip, saying where they looked, when it is absent.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace gantry::testing {

inline std::string shared_inception_dir() {
  const char* env = std::getenv("GANTRY_SHARED_DIR");
  const std::string shared = env != nullptr ? std::string(env) : std::string(GANTRY_TEST_DATA_DIR) + "/../../../shared";
  return shared + "/inception-fid-partial";
}

inline const char* kRealTruncatedInception = "pt_inception-2015-12-05-6726825d.TRUNCATED_818371B.pth";

// The rows of a tab-separated table after its header line, split into cells.
inline std::vector<std::vector<std::string>> read_tsv(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, '\t')) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

}  // namespace gantry::testing

#define SKIP_WITHOUT_INCEPTION_FOLDER()                                                                    \
  if (!std::filesystem::exists(gantry::testing::shared_inception_dir() + "/" +                             \
                               gantry::testing::kRealTruncatedInception))                                  \
  GTEST_SKIP() << "the shared FID Inception folder is absent (" << gantry::testing::shared_inception_dir() \
               << "); set GANTRY_SHARED_DIR to the folder holding inception-fid-partial/"
