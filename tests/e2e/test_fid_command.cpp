// `gantry fid` and `gantry fid stats` end to end, as processes, on the published per-layer weights
// (a feature distance on Mixed_6e: the full weights file is not in the repository): the statistics
// file and the distance equal what the library computes from the same images, FD(X, X) is zero, every
// number carries its protocol and is never called FID, a run's generator is a source, dataset
// statistics are cached, --kid and --prdc equal the library on the same features, and bad input (missing weights, pool3 without the full file, an existing
// --out, statistics of another layer) is refused with the reason and writes nothing.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/io/atomic_file.h"
#include "engine/io/npz.h"
#include "engine/ops/ops.h"
#include "engine/random/generator.h"
#include "eval/feature_statistics.h"
#include "eval/frechet_distance.h"
#include "eval/inception_features.h"
#include "eval/inception_score.h"
#include "eval/kernel_inception_distance.h"
#include "eval/precision_recall.h"
#include "tests/support/error_matchers.h"
#include "tests/support/image_files.h"
#include "tests/support/process_util.h"
#include "tests/support/shared_inception_folder.h"
#include "tests/support/temp_folder.h"
#include "tests/support/tiny_image_run.h"
#include "train/image/image_experiment.h"

namespace gantry {
namespace {

namespace fs = std::filesystem;
using testing::TempFolder;

std::string folded_weights() { return testing::shared_inception_dir() + "/folded"; }

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(std::ifstream(path)); }

// n random uint8 RGB images [n, side, side, 3] in an .npz, as `gantry image sample` writes them.
Tensor write_images_npz(const std::string& path, int64_t n, int64_t side, uint64_t seed) {
  Generator gen(seed);
  const Tensor u8 = mul(rand({n, side, side, 3}, gen), 255.0).to(DType::u8);
  io::save_npz(path, {{"arr_0", u8}});
  return div(u8.permute({0, 3, 1, 2}).to(DType::f32), 255.0);
}

std::pair<int, std::string> gantry(const TempFolder& tmp, const std::vector<std::string>& args) {
  return testing::run_gantry(args, tmp.sub("output.txt"), testing::Millis(300000));
}

class FidCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_INCEPTION_FOLDER();
    fs::create_directories(tmp_.path());
    a_ = write_images_npz(tmp_.sub("a.npz"), 10, 24, 1);
    b_ = write_images_npz(tmp_.sub("b.npz"), 10, 24, 2);
  }
  std::vector<std::string> network() const {
    return {"--layer", "mixed_6e", "--weights", folded_weights(), "--batch", "5", "--quiet"};
  }
  std::vector<std::string> with_network(std::vector<std::string> args) const {
    for (const std::string& a : network()) args.push_back(a);
    return args;
  }
  TempFolder tmp_{"fid_command"};
  Tensor a_, b_;
};

TEST_F(FidCommand, StatisticsAndDistanceEqualTheLibrarysAndCarryTheirProtocol) {
  auto [code, out] =
      gantry(tmp_, with_network({"fid", "stats", "--real", tmp_.sub("a.npz"), "--out", tmp_.sub("sa.npz")}));
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("mixed_6e"), std::string::npos) << out;
  // The library on the same images in the same batches (BLAS rounding depends on the batch size).
  eval::InceptionFeatureExtractor ex(eval::load_weights_for_layer(folded_weights(), eval::InceptionLayer::mixed_6e),
                                     eval::InceptionLayer::mixed_6e, kCPU, /*batch=*/5);
  const eval::FeatureStatistics fa = eval::feature_statistics(ex.features(a_));
  const eval::FeatureStatistics fb = eval::feature_statistics(ex.features(b_));
  const eval::FeatureStatistics file = eval::load_statistics_npz(tmp_.sub("sa.npz"), 768);
  EXPECT_LT(amax(abs(sub(file.mu, fa.mu))).item<double>(), 1e-12);
  EXPECT_LT(amax(abs(sub(file.sigma, fa.sigma))).item<double>(), 1e-12);
  const nlohmann::json stats_protocol = read_json(tmp_.sub("sa.npz") + ".json");
  EXPECT_EQ(stats_protocol["inception"]["layer"], "mixed_6e");
  EXPECT_EQ(stats_protocol["count"], 10);

  // Statistics file against images file.
  std::tie(code, out) = gantry(tmp_, with_network({"fid", "--real", tmp_.sub("sa.npz"), "--fake", tmp_.sub("b.npz"),
                                                   "--out", tmp_.sub("r.json")}));
  ASSERT_EQ(code, 0) << out;
  const nlohmann::json r = read_json(tmp_.sub("r.json"));
  const double expected = eval::frechet_distance(fa, fb).value;
  // 10 images in 768 dimensions: the singular case, where the eigenvalues carry rounding of ~1e-9.
  EXPECT_NEAR(r["value"].get<double>(), expected, 1e-6 * std::abs(expected));
  EXPECT_EQ(r["metric"], "FD_mixed_6e");
  EXPECT_EQ(r["is_fid"], false);
  EXPECT_EQ(r["inception"]["weights"]["format"], "dat folder");
  EXPECT_EQ(r["inception"]["weights"]["folded_digest"], ex.weights().digest);
  EXPECT_EQ(r["inception"]["dim"], 768);
  EXPECT_NE(r["inception"]["resize"].get<std::string>().find("299x299"), std::string::npos);
  EXPECT_EQ(r["real"]["kind"], "statistics file");
  EXPECT_EQ(r["fake"]["kind"], "images file");
  EXPECT_EQ(r["fake"]["count"], 10);
  // Printed with its name and the warning; never as FID.
  EXPECT_NE(("\n" + out).find("\nFD_mixed_6e "), std::string::npos) << out;
  EXPECT_NE(out.find("NOT FID"), std::string::npos) << out;
  EXPECT_EQ(out.find("\nFID"), std::string::npos) << out;
  // 10 images for 768 dimensions: the singular covariance is pointed out.
  EXPECT_NE(out.find("singular"), std::string::npos) << out;
}

TEST_F(FidCommand, KidAndPrecisionRecallEqualTheLibrarysOnTheSameFeatures) {
  auto [code, out] = gantry(tmp_, with_network({"fid", "--real", tmp_.sub("a.npz"), "--fake", tmp_.sub("b.npz"), "--kid",
                                                "--kid-subsets", "5", "--kid-subset-size", "8", "--prdc", "--prdc-k",
                                                "3", "--out", tmp_.sub("kp.json")}));
  ASSERT_EQ(code, 0) << out;
  eval::InceptionFeatureExtractor ex(eval::load_weights_for_layer(folded_weights(), eval::InceptionLayer::mixed_6e),
                                     eval::InceptionLayer::mixed_6e, kCPU, /*batch=*/5);
  const Tensor fa = ex.features(a_), fb = ex.features(b_);
  eval::KernelInceptionDistanceOptions ko;
  ko.num_subsets = 5;
  ko.max_subset_size = 8;
  const eval::KernelInceptionDistance kid = eval::kernel_inception_distance(fa, fb, ko);
  eval::PrecisionRecallOptions po;
  po.k = 3;
  const eval::PrecisionRecall pr = eval::precision_recall(fa, fb, po);
  const nlohmann::json r = read_json(tmp_.sub("kp.json"));
  // Off pool3 the kernel distance is KD_<layer>, never KID.
  EXPECT_EQ(r["kid"]["metric"], "KD_mixed_6e");
  EXPECT_NEAR(r["kid"]["mean"].get<double>(), kid.mean, 1e-9 * std::max(1.0, std::abs(kid.mean)));
  EXPECT_NEAR(r["kid"]["std"].get<double>(), kid.std, 1e-9 * std::max(1.0, kid.std));
  EXPECT_EQ(r["kid"]["subset_size"], 8);
  EXPECT_EQ(r["kid"]["subsets"], 5);
  EXPECT_EQ(r["prdc"]["k"], 3);
  EXPECT_EQ(r["prdc"]["features"], "mixed_6e");
  EXPECT_DOUBLE_EQ(r["prdc"]["precision"].get<double>(), pr.precision);
  EXPECT_DOUBLE_EQ(r["prdc"]["recall"].get<double>(), pr.recall);
  EXPECT_DOUBLE_EQ(r["prdc"]["density"].get<double>(), pr.density);
  EXPECT_DOUBLE_EQ(r["prdc"]["coverage"].get<double>(), pr.coverage);
  EXPECT_NE(("\n" + out).find("\nKD_mixed_6e "), std::string::npos) << out;
  EXPECT_EQ(out.find("KID"), std::string::npos) << out;
  EXPECT_NE(out.find("precision "), std::string::npos) << out;

  // A statistics file holds no features: refused, naming it, before any image goes through the network.
  eval::save_statistics_npz(tmp_.sub("sa.npz"), eval::feature_statistics(fa));
  std::tie(code, out) = gantry(tmp_, with_network({"fid", "--real", tmp_.sub("sa.npz"), "--fake", tmp_.sub("b.npz"),
                                                   "--prdc", "--out", tmp_.sub("nope.json")}));
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("sa.npz is a statistics file"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(tmp_.sub("nope.json")));
  // Subsets of one image are refused up front (k above a side's count is the library's error,
  // tests/unit/test_precision_recall.cpp).
  std::tie(code, out) = gantry(tmp_, with_network({"fid", "--real", tmp_.sub("a.npz"), "--fake", tmp_.sub("b.npz"),
                                                   "--kid", "--kid-subset-size", "1"}));
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("--kid-subset-size"), std::string::npos) << out;
}

TEST_F(FidCommand, TheDistanceOfASourceToItselfIsZero) {
  auto [code, out] = gantry(tmp_, with_network({"fid", "--real", tmp_.sub("a.npz"), "--fake", tmp_.sub("a.npz"),
                                                "--out", tmp_.sub("self.json")}));
  ASSERT_EQ(code, 0) << out;
  EXPECT_LT(std::abs(read_json(tmp_.sub("self.json"))["value"].get<double>()), 1e-6);
}

TEST_F(FidCommand, ARunsGeneratorIsASourceAndItsModeIsRecorded) {
  testing::write_patterned_png_folder(tmp_.sub("pngs"), 8, 16);
  const image::ImageTrainConfig c = testing::tiny_image_run(tmp_.sub("pngs"), tmp_.sub("run"), 2);
  image::ImageRunOptions o;
  o.messages = nullptr;
  image::run_image_training(c, o);
  auto [code, out] = gantry(
      tmp_, with_network({"fid", "--real", tmp_.sub("pngs"), "--fake", tmp_.sub("run"), "--fake-count", "6",
                          "--generator", "raw", "--stats-cache", tmp_.sub("stats"), "--out", tmp_.sub("run.json")}));
  ASSERT_EQ(code, 0) << out;
  const nlohmann::json r = read_json(tmp_.sub("run.json"));
  EXPECT_EQ(r["fake"]["kind"], "run");
  EXPECT_EQ(r["fake"]["generator"], "raw");
  EXPECT_EQ(r["fake"]["step"], 2);
  EXPECT_EQ(r["fake"]["count"], 6);
  EXPECT_TRUE(r["fake"]["truncation"].is_null());
  EXPECT_EQ(r["real"]["kind"], "dataset");
  EXPECT_EQ(r["real"]["count"], 8);
  // The folder's statistics were cached; a second call reads them and gives the same number.
  const std::string cached = r["real"]["cached_statistics"].get<std::string>();
  EXPECT_TRUE(fs::exists(cached)) << cached;
  std::tie(code, out) = gantry(
      tmp_, with_network({"fid", "--real", tmp_.sub("pngs"), "--fake", tmp_.sub("run"), "--fake-count", "6",
                          "--generator", "raw", "--stats-cache", tmp_.sub("stats"), "--out", tmp_.sub("run2.json")}));
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(read_json(tmp_.sub("run2.json"))["value"], r["value"]);
}

TEST_F(FidCommand, BadInputIsRefusedWithTheReasonAndWritesNothing) {
  // pool3 (FID) on the per-layer weights: they stop at Mixed_7a.
  auto [code, out] = gantry(tmp_, {"fid", "--real", tmp_.sub("a.npz"), "--fake", tmp_.sub("b.npz"), "--weights",
                                   folded_weights(), "--quiet"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("only through Mixed_7a"), std::string::npos) << out;
  EXPECT_NE(out.find("pt_inception-2015-12-05-6726825d.pth"), std::string::npos) << out;
  // No weights at all: the file looked for and where it is published.
  std::tie(code, out) = gantry(
      tmp_, {"fid", "--real", tmp_.sub("a.npz"), "--fake", tmp_.sub("b.npz"), "--weights", tmp_.sub("nowhere.pth")});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("do not exist"), std::string::npos) << out;
  EXPECT_NE(out.find("github.com/mseitzer/pytorch-fid/releases"), std::string::npos) << out;
  // An existing --out is kept.
  io::write_file_atomic(tmp_.sub("keep.json"), "mine\n");
  std::tie(code, out) = gantry(tmp_, with_network({"fid", "--real", tmp_.sub("a.npz"), "--fake", tmp_.sub("b.npz"),
                                                   "--out", tmp_.sub("keep.json")}));
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("exists; nothing was written"), std::string::npos) << out;
  EXPECT_EQ(io::read_file(tmp_.sub("keep.json")), "mine\n");
  // Statistics of another layer (2 dims) against mixed_6e (768).
  eval::save_statistics_npz(tmp_.sub("small.npz"),
                            eval::feature_statistics(from_vector(std::vector<double>{0, 1, 2, 3, 4, 6}, {3, 2})));
  std::tie(code, out) =
      gantry(tmp_, with_network({"fid", "--real", tmp_.sub("small.npz"), "--fake", tmp_.sub("b.npz")}));
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("small.npz"), std::string::npos) << out;
  EXPECT_NE(out.find("768"), std::string::npos) << out;
  // One image: no covariance.
  write_images_npz(tmp_.sub("one.npz"), 1, 24, 3);
  std::tie(code, out) =
      gantry(tmp_, with_network({"fid", "--real", tmp_.sub("one.npz"), "--fake", tmp_.sub("b.npz")}));
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("gave 1 images; the covariance needs at least 2"), std::string::npos) << out;
  // Images of the wrong kind in an images file.
  io::save_npz(tmp_.sub("float.npz"), {{"arr_0", zeros({2, 8, 8, 3})}});
  std::tie(code, out) =
      gantry(tmp_, with_network({"fid", "--real", tmp_.sub("a.npz"), "--fake", tmp_.sub("float.npz")}));
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("must be uint8 images"), std::string::npos) << out;
}

// --is on the full network with random weights (tests/data; runs without the shared folder): the score
// of --fake equals the library's on the same logits, shuffled as torch-fidelity does; it is refused off
// pool3, with more splits than images, and its options without --is. (Every image is a full Inception
// forward pass: the sanitizer build leaves this test out, scripts/test.sh.)
TEST(FidCommandInceptionScore, EqualsTheLibrarysOnTheSameLogits) {
  TempFolder tmp("fid_is");
  fs::create_directories(tmp.path());
  const std::string weights = std::string(GANTRY_TEST_DATA_DIR) + "/fid_inception_random_legacy.pth";
  write_images_npz(tmp.sub("a.npz"), 2, 24, 1);
  const Tensor b = write_images_npz(tmp.sub("b.npz"), 4, 24, 2);
  const std::vector<std::string> common = {"fid",       "--real",       tmp.sub("a.npz"), "--fake", tmp.sub("b.npz"),
                                           "--weights", weights,        "--batch",        "2",      "--quiet",
                                           "--is",      "--is-shuffle", "--is-splits",    "2"};
  std::vector<std::string> args = common;
  args.insert(args.end(), {"--out", tmp.sub("is.json")});
  auto [code, out] = gantry(tmp, args);
  ASSERT_EQ(code, 0) << out;
  eval::InceptionFeatureExtractor ex(eval::load_weights_for_layer(weights, eval::InceptionLayer::pool3),
                                     eval::InceptionLayer::pool3, kCPU, /*batch=*/2);
  eval::InceptionScoreOptions o;
  o.splits = 2;
  o.shuffle = true;
  const eval::InceptionScore want = eval::inception_score_from_logits(ex.pool3_and_logits(b).second, o);
  const nlohmann::json r = read_json(tmp.sub("is.json"));
  // Random weights predict almost uniformly (IS just above 1): compared on IS - 1, the KL part, within
  // the float32 logits' rounding (another thread count in the process gives other BLAS sums).
  EXPECT_EQ(r["is"]["metric"], "IS");
  EXPECT_NEAR(r["is"]["mean"].get<double>() - 1, want.mean - 1, 1e-3 * (want.mean - 1));
  ASSERT_EQ(r["is"]["split_scores"].size(), 2u);
  for (size_t i = 0; i < 2; ++i)
    EXPECT_NEAR(r["is"]["split_scores"][i].get<double>() - 1, want.split_scores[i] - 1,
                1e-3 * (want.split_scores[i] - 1));
  EXPECT_EQ(r["is"]["splits"], 2);
  EXPECT_EQ(r["is"]["images"], 4);
  EXPECT_NE(r["is"]["order"].get<std::string>().find("torch-fidelity"), std::string::npos);
  EXPECT_NE(("\n" + out).find("\nIS "), std::string::npos) << out;
  EXPECT_EQ(r["metric"], "FID");  // the full network: the distance beside it is FID
  // Off pool3 there are no logits: refused before any image goes through the network.
  std::tie(code, out) = gantry(tmp, {"fid", "--real", tmp.sub("a.npz"), "--fake", tmp.sub("b.npz"), "--weights",
                                     weights, "--layer", "mixed_6e", "--is", "--out", tmp.sub("no.json")});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("--layer pool3"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(tmp.sub("no.json")));
  // More splits than images.
  args = common;
  args.back() = "5";
  std::tie(code, out) = gantry(tmp, args);
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("--is-splits: 5 splits of 4 images"), std::string::npos) << out;
  // The split options without --is.
  std::tie(code, out) = gantry(
      tmp, {"fid", "--real", tmp.sub("a.npz"), "--fake", tmp.sub("b.npz"), "--weights", weights, "--is-splits", "2"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("need --is"), std::string::npos) << out;
}

}  // namespace
}  // namespace gantry
