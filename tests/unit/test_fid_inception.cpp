// The FID Inception-v3 (models/fid_inception.h) and its weight loaders (models/fid_inception_weights.h):
//  - the architecture against the real checkpoint's key table and layer map;
//  - random weights in pytorch-fid's layout (both torch.save formats, written by
//    tests/golden/make_fid_inception_golden.py) through the whole network against the float64 PyTorch
//    reference written from the spec: every layer sampled, pool3, logits and the pooled Mixed_6e/7a;
//  - the real published per-layer weights through Mixed_7a against the same reference on them;
//  - refusals: misnamed, missing, misshapen keys, torchvision's Inception, truncated files, bad images.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"
#include "engine/io/torch_checkpoint.h"
#include "engine/ops/ops.h"
#include "models/fid_inception.h"
#include "models/fid_inception_weights.h"
#include "tests/support/error_matchers.h"
#include "tests/support/golden_file.h"
#include "tests/support/shared_inception_folder.h"
#include "tests/support/temp_folder.h"

namespace gantry {
namespace {

namespace fs = std::filesystem;
using models::FidInceptionV3;
using models::InceptionExtent;
using testing::throws_error_mentioning;

const std::string kData = GANTRY_TEST_DATA_DIR;
const std::string kRandomLegacy = kData + "/fid_inception_random_legacy.pth";
const std::string kRandomZip = kData + "/fid_inception_random_zip.pth";
constexpr double kRtol = 1e-4;  // of each layer's RMS: float32 engine against the float64 reference

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  return out;
}

double rms_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s / static_cast<double>(v.size()));
}

// actual (f32, any device) against golden values, |a - e| <= rtol * RMS(e) everywhere.
::testing::AssertionResult close_in_rms(const Tensor& actual, const std::vector<double>& expected, double rms,
                                        const std::string& what) {
  const std::vector<float> a = to_vector<float>(actual.to(kCPU).contiguous());
  if (a.size() != expected.size())
    return ::testing::AssertionFailure() << what << ": " << a.size() << " values, golden " << expected.size();
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (const double d = std::abs(a[i] - expected[i]); d > worst) worst = d, at = i;
  if (worst <= kRtol * rms) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": worst |diff| " << worst << " at " << at << " (engine " << a[at]
                                       << ", reference " << expected[at] << ") exceeds " << kRtol << " x RMS " << rms;
}

double sum_of(const Tensor& t) { return sum(t.to(DType::f64)).item<double>(); }

// Every layer's sampled values against a golden file's "layer.<name>.*" entries.
void expect_layers_match(const testing::GoldenFile& golden, const std::string& batch, FidInceptionV3& net) {
  std::map<std::string, Tensor> seen;
  std::vector<std::string> order;
  net.features(golden.tensor("images." + batch), [&](const std::string& name, const Tensor& out) {
    seen[name] = out;
    order.push_back(name);
  });
  const std::vector<std::string> layers = split_commas(golden.meta("layers"));
  ASSERT_FALSE(layers.empty());
  // The observer reports the reference's layers in the reference's order.
  std::vector<std::string> reported(order.begin(), order.begin() + std::min(order.size(), layers.size()));
  EXPECT_EQ(reported, layers);
  for (const std::string& name : layers) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(seen.contains(name));
    const Tensor& out = seen[name];
    const std::vector<double> shape = golden.values("layer." + name + ".shape");
    ASSERT_EQ(out.dim(), static_cast<int64_t>(shape.size()));
    for (size_t d = 0; d < shape.size(); ++d) ASSERT_EQ(out.shape()[d], static_cast<int64_t>(shape[d]));
    const Tensor flat = out.contiguous().reshape({out.numel()});
    const Tensor index = golden.tensor("layer." + name + ".index");
    const Tensor picked = index_select(flat, 0, index.to(out.device()));
    EXPECT_TRUE(
        close_in_rms(picked, golden.values("layer." + name + ".value"), golden.scalar("layer." + name + ".rms"), name));
    // The whole tensor's sum, to catch an error the samples miss (e.g. a wrong border).
    const double sum = sum_of(out), want = golden.scalar("layer." + name + ".sum");
    EXPECT_NEAR(sum, want, kRtol * golden.scalar("layer." + name + ".rms") * static_cast<double>(out.numel()));
  }
}

// The golden outputs of `batch` the features have (a network through Mixed_7a has no pool3 or logits).
void expect_outputs_match(const testing::GoldenFile& golden, const std::string& batch,
                          const models::InceptionFeatures& f, bool full_network = true) {
  const std::vector<std::pair<std::string, Tensor>> outputs = {{"pool3", f.pool3},
                                                               {"logits", f.logits},
                                                               {"logits_unbiased", f.logits_unbiased},
                                                               {"mixed_6e_pool", f.mixed_6e_pool},
                                                               {"mixed_7a_pool", f.mixed_7a_pool}};
  for (const auto& [name, t] : outputs) {
    const std::string key = batch + "." + name;
    if (!golden.contents().contains(key) || (!full_network && (name == "pool3" || name.starts_with("logits"))))
      continue;
    SCOPED_TRACE(key);
    ASSERT_TRUE(t.defined());
    EXPECT_EQ(t.shape(), golden.tensor(key).shape());
    const std::vector<double> want = golden.values(key);
    EXPECT_TRUE(close_in_rms(t, want, rms_of(want), key));
  }
}

const models::FidInceptionWeights& random_weights() {
  static const models::FidInceptionWeights w = models::load_fid_inception_weights(kRandomLegacy);
  return w;
}

// ---- architecture ----

TEST(FidInceptionArchitecture, HasThe94ConvolutionsOfTheRealLayerMap) {
  const auto& convs = models::fid_inception_convs();
  ASSERT_EQ(convs.size(), 94u);
  int through_7a = 0;
  for (const auto& c : convs) through_7a += c.in_mixed_7a_extent;
  EXPECT_EQ(through_7a, 94 - 18);  // Mixed_7b and 7c have nine each
  SKIP_WITHOUT_INCEPTION_FOLDER();
  const auto rows = testing::read_tsv(testing::shared_inception_dir() + "/layer_map.tsv");
  ASSERT_EQ(rows.size(), 94u);
  std::map<std::string, const models::InceptionConvSpec*> by_name;
  for (const auto& c : convs) by_name[c.name] = &c;
  for (const auto& row : rows) {
    SCOPED_TRACE(row[0]);
    ASSERT_TRUE(by_name.contains(row[0]));
    const auto& c = *by_name[row[0]];
    EXPECT_EQ(c.tf_name, row[1]);
    EXPECT_EQ(c.dat_basename(), row[2]);
    std::string shape = row[3];
    std::erase(shape, ' ');
    std::string ours = "[";
    for (size_t d = 0; d < 4; ++d) {
      if (d > 0) ours += ",";
      ours += std::to_string(c.weight_shape()[d]);
    }
    EXPECT_EQ(ours + "]", shape);
  }
}

TEST(FidInceptionArchitecture, ExpectsExactlyTheRealCheckpointsKeysAndShapes) {
  SKIP_WITHOUT_INCEPTION_FOLDER();
  // The real (truncated) file's header passes the key check; the load then fails only as truncated.
  const std::string real = testing::shared_inception_dir() + "/" + testing::kRealTruncatedInception;
  EXPECT_TRUE(throws_error_mentioning([&] { (void)models::load_fid_inception_weights(real); }, {real, "is truncated"}));
}

TEST(FidInceptionArchitecture, ModuleNamesAreTheFoldedLayout) {
  FidInceptionV3 full(InceptionExtent::full), partial(InceptionExtent::through_mixed_7a);
  EXPECT_EQ(full.state_dict().size(), 94u * 2 + 2);
  EXPECT_EQ(partial.state_dict().size(), 76u * 2);
  EXPECT_EQ(full.state_dict().front().first, "Conv2d_1a_3x3.weight");
  EXPECT_EQ(full.state_dict().back().first, "fc.bias");
}

// ---- random weights: the whole network against the PyTorch reference ----

TEST(FidInceptionRandomWeights, BothTorchFormatsLoadTheSameWeights) {
  const models::FidInceptionWeights legacy = random_weights();
  const models::FidInceptionWeights zip = models::load_fid_inception_weights(kRandomZip);
  EXPECT_EQ(legacy.format, "torch legacy");
  EXPECT_EQ(zip.format, "torch zip");
  EXPECT_EQ(legacy.extent, InceptionExtent::full);
  EXPECT_TRUE(legacy.missing.empty());
  EXPECT_EQ(legacy.digest, zip.digest);
  EXPECT_NE(legacy.file_sha256, zip.file_sha256);
  EXPECT_EQ(legacy.file_sha256.size(), 64u);
  // Not the published file: its SHA-256 does not start with the published name's digits.
  EXPECT_EQ(legacy.published_file(), "no");
  models::FidInceptionWeights renamed = legacy;
  renamed.file_sha256 = std::string(models::kFidInceptionSha256Prefix) + legacy.file_sha256.substr(8);
  EXPECT_EQ(renamed.published_file(), "yes");
}

TEST(FidInceptionRandomWeights, SafetensorsInEitherLayoutGiveTheSameWeights) {
  testing::TempFolder dir("fid_inception_safetensors");
  fs::create_directories(dir.path());
  // pytorch-fid's keys, as safetensors.torch.save_file(state_dict) writes them.
  const std::string unfolded = dir.sub("pytorch_fid_keys.safetensors");
  io::save_safetensors(unfolded, io::load_torch_checkpoint(kRandomLegacy));
  const models::FidInceptionWeights a = models::load_fid_inception_weights(unfolded);
  EXPECT_EQ(a.format, "safetensors");
  EXPECT_EQ(a.digest, random_weights().digest);
  // The folded layout gantry writes.
  const std::string folded = dir.sub("folded.safetensors");
  models::save_fid_inception_weights(folded, random_weights());
  const models::FidInceptionWeights b = models::load_fid_inception_weights(folded);
  EXPECT_EQ(b.format, "safetensors (folded)");
  EXPECT_EQ(b.published_file(), "unknown");
  EXPECT_EQ(b.digest, random_weights().digest);
}

TEST(FidInceptionRandomWeights, EveryLayerPool3AndLogitsMatchTheReference) {
  const testing::GoldenFile& golden = testing::cached_golden_file("fid_inception_random_golden.safetensors");
  auto net = models::make_fid_inception(random_weights(), InceptionExtent::full);
  expect_layers_match(golden, "a", *net);
  expect_outputs_match(golden, "a", net->features(golden.tensor("images.a")));
}

TEST(FidInceptionRandomWeights, ANonSquareImageIsResizedLikeTheReference) {
  const testing::GoldenFile& golden = testing::cached_golden_file("fid_inception_random_golden.safetensors");
  auto net = models::make_fid_inception(random_weights(), InceptionExtent::full);
  const Tensor images = golden.tensor("images.b");
  ASSERT_NE(images.shape()[2], images.shape()[3]);
  expect_outputs_match(golden, "b", net->features(images));
}

TEST(FidInceptionRandomWeights, ThePartialNetworkGivesTheFullNetworksEarlyFeatures) {
  const testing::GoldenFile& golden = testing::cached_golden_file("fid_inception_random_golden.safetensors");
  auto net = models::make_fid_inception(random_weights(), InceptionExtent::through_mixed_7a);
  const models::InceptionFeatures f = net->features(golden.tensor("images.a"));
  EXPECT_FALSE(f.pool3.defined());
  EXPECT_FALSE(f.logits.defined());
  expect_outputs_match(golden, "a", f, /*full_network=*/false);
}

TEST(FidInceptionRandomWeights, AFaultInOneChannelOfOneLayerIsCaught) {
  // The check is sharp enough to see a one-layer fault: raising one channel's folded bias (by enough
  // that its ReLU passes it) shifts that channel of Mixed_6e's output.
  const testing::GoldenFile& golden = testing::cached_golden_file("fid_inception_random_golden.safetensors");
  models::FidInceptionWeights w = random_weights();
  for (auto& [name, t] : w.folded)
    if (name == "Mixed_6e.branch_pool.bias") {
      t = t.clone();
      t.data_ptr<float>()[0] += 10.0f;
    }
  auto net = models::make_fid_inception(w, InceptionExtent::full);
  const models::InceptionFeatures f = net->features(golden.tensor("images.a"));
  const std::vector<double> want = golden.values("a.mixed_6e_pool");
  EXPECT_FALSE(close_in_rms(f.mixed_6e_pool, want, rms_of(want), "mixed_6e_pool"));
}

// ---- the real published weights through Mixed_7a ----

TEST(FidInceptionRealWeights, TheFoldedFilesLoadThroughMixed7a) {
  SKIP_WITHOUT_INCEPTION_FOLDER();
  const std::string folder = testing::shared_inception_dir() + "/folded";
  const models::FidInceptionWeights w = models::load_fid_inception_weights(folder);
  EXPECT_EQ(w.format, "dat folder");
  EXPECT_EQ(w.extent, InceptionExtent::through_mixed_7a);
  const std::set<std::string> missing(w.missing.begin(), w.missing.end());
  EXPECT_TRUE(missing.contains("weights_mixed_9_tower_1_conv_1.dat"));
  EXPECT_TRUE(missing.contains("weights_mixed_10_tower_1_conv_1.dat"));
  EXPECT_TRUE(missing.contains("weights_softmax.dat"));
  EXPECT_EQ(w.folded.size(), 76u * 2);
  EXPECT_TRUE(throws_error_mentioning(
      [&] { (void)models::make_fid_inception(w, InceptionExtent::full); },
      {"weights_mixed_9_tower_1_conv_1.dat", models::kFidInceptionFileName, models::kFidInceptionUrl}));
}

TEST(FidInceptionRealWeights, TheirFoldEqualsTheCheckpointsBitForBit) {
  SKIP_WITHOUT_INCEPTION_FOLDER();
  const std::string real = testing::shared_inception_dir() + "/" + testing::kRealTruncatedInception;
  const std::string p = "Mixed_6a.branch3x3dbl_1";
  // The truncated part holds this layer's weight, gamma and variance (not beta and mean, which only
  // the bias needs).
  const io::TorchStateDict sd =
      io::load_torch_tensors(real, {p + ".conv.weight", p + ".bn.weight", p + ".bn.running_var"});
  const Tensor none = zeros({64});
  const Tensor w = models::fold_inception_batch_norm(sd[0].second, sd[1].second, none, none, sd[2].second).first;
  const models::FidInceptionWeights dat =
      models::load_fid_inception_weights(testing::shared_inception_dir() + "/folded");
  int compared = 0;
  for (const auto& [name, t] : dat.folded)
    if (name == p + ".weight") {
      ASSERT_EQ(w.shape(), t.shape());
      EXPECT_EQ(to_vector<float>(w), to_vector<float>(t));
      ++compared;
    }
  EXPECT_EQ(compared, 1);
}

TEST(FidInceptionRealWeights, EveryLayerThroughMixed7aMatchesTheReference) {
  SKIP_WITHOUT_INCEPTION_FOLDER();
  const testing::GoldenFile& golden = testing::cached_golden_file("fid_inception_real_partial_golden.safetensors");
  const models::FidInceptionWeights w = models::load_fid_inception_weights(testing::shared_inception_dir() + "/folded");
  auto net = models::make_fid_inception(w, InceptionExtent::through_mixed_7a);
  expect_layers_match(golden, "a", *net);
  expect_outputs_match(golden, "a", net->features(golden.tensor("images.a")), /*full_network=*/false);
}

// ---- bad weights ----

std::string write_state(const testing::TempFolder& dir, const std::string& name, const io::NamedTensors& sd) {
  fs::create_directories(dir.path());
  io::save_safetensors(dir.sub(name), sd);
  return dir.sub(name);
}

TEST(FidInceptionBadWeights, MissingExtraAndMisshapenKeysAreNamed) {
  testing::TempFolder dir("fid_inception_bad_keys");
  io::NamedTensors sd = io::load_torch_checkpoint(kRandomLegacy);
  io::NamedTensors edited;
  for (auto& [name, t] : sd) {
    if (name == "Mixed_6c.branch7x7_2.bn.running_var") continue;               // missing
    if (name == "Mixed_5b.branch1x1.conv.weight") t = zeros({64, 192, 3, 3});  // misshapen
    edited.emplace_back(name, t);
  }
  edited.emplace_back("Mixed_5b.extra.weight", zeros({1}));  // extra
  const std::string path = write_state(dir, "bad.safetensors", edited);
  EXPECT_TRUE(throws_error_mentioning(
      [&] { (void)models::load_fid_inception_weights(path); },
      {path, "missing 1 keys (Mixed_6c.branch7x7_2.bn.running_var)", "1 unexpected keys (Mixed_5b.extra.weight)",
       "Mixed_5b.branch1x1.conv.weight is [64, 192, 3, 3], expected [64, 192, 1, 1]"}));
}

TEST(FidInceptionBadWeights, TorchvisionsInceptionIsRecognised) {
  testing::TempFolder dir("fid_inception_torchvision");
  io::NamedTensors sd = io::load_torch_checkpoint(kRandomLegacy);
  io::NamedTensors tv;
  for (auto& [name, t] : sd)
    tv.emplace_back(name, name == "fc.weight" ? zeros({1000, 2048}) : name == "fc.bias" ? zeros({1000}) : t);
  tv.emplace_back("AuxLogits.conv0.conv.weight", zeros({128, 768, 1, 1}));
  const std::string path = write_state(dir, "inception_v3_google.safetensors", tv);
  EXPECT_TRUE(throws_error_mentioning([&] { (void)models::load_fid_inception_weights(path); },
                                      {path, "torchvision", "not the FID network", models::kFidInceptionFileName}));
}

TEST(FidInceptionBadWeights, AFolderLackingAnEarlyLayerOrWithAWrongSizeIsRefused) {
  testing::TempFolder dir("fid_inception_bad_folder");
  fs::create_directories(dir.path());
  const models::FidInceptionWeights w = random_weights();
  EXPECT_TRUE(throws_error_mentioning([&] { (void)models::load_fid_inception_weights(dir.path()); },
                                      {dir.path(), "lacks layers", "weights_conv.dat"}));
  io::write_file_atomic(dir.sub("weights_conv.dat"), std::string(100, '\0'));
  io::write_file_atomic(dir.sub("bias_conv.dat"), std::string(32 * 4, '\0'));
  EXPECT_TRUE(throws_error_mentioning([&] { (void)models::load_fid_inception_weights(dir.path()); },
                                      {"weights_conv.dat has 100 bytes, expected 3456"}));
}

TEST(FidInceptionBadWeights, NonFiniteWeightsAndForeignFilesAreRefused) {
  testing::TempFolder dir("fid_inception_nan");
  models::FidInceptionWeights w = random_weights();
  for (auto& [name, t] : w.folded)
    if (name == "Mixed_7a.branch3x3_2.weight") {
      t = t.clone();
      t.data_ptr<float>()[5] = std::nanf("");
    }
  fs::create_directories(dir.path());
  models::save_fid_inception_weights(dir.sub("nan.safetensors"), w);
  EXPECT_TRUE(throws_error_mentioning([&] { (void)models::load_fid_inception_weights(dir.sub("nan.safetensors")); },
                                      {"Mixed_7a.branch3x3_2.weight", "non-finite", "element 5"}));
  io::write_file_atomic(dir.sub("notes.txt"), "hello");
  EXPECT_TRUE(throws_error_mentioning([&] { (void)models::load_fid_inception_weights(dir.sub("notes.txt")); },
                                      {dir.sub("notes.txt"), "neither a PyTorch checkpoint"}));
  EXPECT_TRUE(throws_error_mentioning([&] { (void)models::load_fid_inception_weights(dir.sub("none.pth")); },
                                      {dir.sub("none.pth"), "does not exist"}));
}

// ---- bad images and preprocessing ----

TEST(FidInceptionInput, ImagesOutsideZeroOneOrOfTheWrongShapeAreRefused) {
  const auto refused = [](const Tensor& images, std::vector<std::string> words) {
    return throws_error_mentioning([&] { (void)FidInceptionV3::preprocess(images); }, words);
  };
  EXPECT_TRUE(refused(full({2, 3, 8, 8}, -0.5), {"[0, 1]", "[-1, 1]", "(x + 1) / 2"}));
  EXPECT_TRUE(refused(full({2, 3, 8, 8}, 200.0), {"[0, 1]", "divide them by 255"}));
  EXPECT_TRUE(refused(zeros({2, 2, 8, 8}), {"2 channels"}));
  EXPECT_TRUE(refused(zeros({3, 8, 8}), {"[N, 3, H, W]", "[3, 8, 8]"}));
  Tensor nan_image = zeros({1, 3, 4, 4});
  nan_image.data_ptr<float>()[7] = std::nanf("");
  EXPECT_TRUE(refused(nan_image, {"non-finite"}));
}

TEST(FidInceptionInput, GreyImagesAreReplicatedAndScaledToMinusOneOne) {
  std::vector<float> values(2 * 16 * 16);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>((i * 37) % 256) / 255.0f;
  const Tensor grey = from_vector(values, {2, 1, 16, 16});
  const Tensor rgb = grey.expand({2, 3, 16, 16}).contiguous();
  const Tensor a = FidInceptionV3::preprocess(grey), b = FidInceptionV3::preprocess(rgb);
  EXPECT_EQ(a.shape(), (Shape{2, 3, 299, 299}));
  EXPECT_EQ(to_vector<float>(a), to_vector<float>(b));
  EXPECT_GE(amin(a).item<double>(), -1.0);
  EXPECT_LE(amax(a).item<double>(), 1.0);
  // A 299x299 image is only scaled.
  const Tensor big = full({1, 3, 299, 299}, 0.25);
  EXPECT_EQ(amax(abs(sub(FidInceptionV3::preprocess(big), -0.5))).item<double>(), 0.0);
}

}  // namespace
}  // namespace gantry
