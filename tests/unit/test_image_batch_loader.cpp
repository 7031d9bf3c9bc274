// The background batch loader: every image once per epoch, seeded permutations and flips that depend
// on (seed, epoch, position) only, identical continuations after seek()/load_state(), labels carried,
// errors of the decoding thread surfaced, and a clean shutdown mid-epoch.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "tests/support/error_matchers.h"
#include "train/data/image_batch_loader.h"
#include "train/data/in_memory_image_dataset.h"

namespace gantry {
namespace {

using testing::throws_error_mentioning;

constexpr int64_t kSide = 4;

// n grey 4x4 images; image i has pixel (x, y) = (i + 16 y + x) % 256 and label i % 10, so a batch
// names its images and shows flips.
std::shared_ptr<const data::ImageDataset> indexed_dataset(int64_t n) {
  data::ImageDatasetInfo info;
  info.name = "indexed";
  info.size = n;
  info.channels = 1;
  info.height = info.width = kSide;
  info.class_names = std::vector<std::string>(10, "c");
  info.num_classes = 10;
  std::vector<uint8_t> pixels, labels;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t p = 0; p < kSide * kSide; ++p) pixels.push_back(static_cast<uint8_t>((i + p) % 256));
    labels.push_back(static_cast<uint8_t>(i % 10));
  }
  return std::make_shared<data::InMemoryImageDataset>(info, pixels, labels);
}

uint8_t pixel_byte(float v) { return static_cast<uint8_t>(std::lround((v + 1.0f) * 127.5f)); }

// The dataset index of batch image b (from its top-left pixel when not flipped, top-right when flipped).
int64_t image_index(const data::ImageBatch& batch, int64_t b, bool* flipped = nullptr) {
  const float* image = batch.images.data_ptr<float>() + b * kSide * kSide;
  const int64_t left = pixel_byte(image[0]), right = pixel_byte(image[kSide - 1]);
  const bool is_flipped = (left - right + 256) % 256 == kSide - 1;
  if (flipped) *flipped = is_flipped;
  return is_flipped ? right : left;
}

std::vector<int64_t> indices_of(const data::ImageBatch& batch) {
  std::vector<int64_t> out;
  for (int64_t b = 0; b < batch.images.size(0); ++b) out.push_back(image_index(batch, b));
  return out;
}

std::vector<std::vector<int64_t>> take(data::ImageBatchLoader& loader, int64_t batches) {
  std::vector<std::vector<int64_t>> out;
  for (int64_t i = 0; i < batches; ++i) out.push_back(indices_of(loader.next()));
  return out;
}

TEST(ImageBatchLoader, VisitsEveryImageOncePerEpochAndDropsThePartialBatch) {
  data::ImageBatchLoader loader(indexed_dataset(23), {.batch_size = 5, .seed = 3});
  ASSERT_EQ(loader.batches_per_epoch(), 4);
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::set<int64_t> seen;
    for (int b = 0; b < 4; ++b) {
      EXPECT_EQ(loader.position().epoch, epoch);
      EXPECT_EQ(loader.position().batch, b);
      const data::ImageBatch batch = loader.next();
      ASSERT_EQ(batch.images.shape(), (Shape{5, 1, kSide, kSide}));
      for (int64_t i : indices_of(batch)) EXPECT_TRUE(seen.insert(i).second) << "image " << i << " twice";
    }
    EXPECT_EQ(seen.size(), 20u);  // 3 of the 23 fall in the dropped partial batch
  }
  // With batches that divide the dataset, each epoch is the whole dataset.
  data::ImageBatchLoader exact(indexed_dataset(12), {.batch_size = 4, .seed = 3});
  std::set<int64_t> seen;
  for (const auto& b : take(exact, 3)) seen.insert(b.begin(), b.end());
  EXPECT_EQ(seen.size(), 12u);
}

TEST(ImageBatchLoader, ImagesAreScaledToMinusOneOne) {
  data::ImageBatchLoader loader(indexed_dataset(256), {.batch_size = 256, .seed = 1});
  const data::ImageBatch batch = loader.next();
  const float* v = batch.images.data_ptr<float>();
  float lo = 2, hi = -2;
  for (int64_t i = 0; i < batch.images.numel(); ++i) lo = std::min(lo, v[i]), hi = std::max(hi, v[i]);
  EXPECT_EQ(lo, -1.0f);
  EXPECT_EQ(hi, 1.0f);
  EXPECT_EQ(batch.images.dtype(), DType::f32);
}

TEST(ImageBatchLoader, PermutationsDifferAcrossEpochsAndSeedsAndRepeatForTheSameSeed) {
  data::ImageBatchLoader a(indexed_dataset(40), {.batch_size = 40, .seed = 5});
  data::ImageBatchLoader b(indexed_dataset(40), {.batch_size = 40, .seed = 5});
  data::ImageBatchLoader other(indexed_dataset(40), {.batch_size = 40, .seed = 6});
  const auto epochs_a = take(a, 3), epochs_b = take(b, 3), epochs_other = take(other, 3);
  EXPECT_EQ(epochs_a, epochs_b);
  EXPECT_NE(epochs_a[0], epochs_a[1]);
  EXPECT_NE(epochs_a[1], epochs_a[2]);
  EXPECT_NE(epochs_a[0], epochs_other[0]);
  std::vector<int64_t> identity(40);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_NE(epochs_a[0], identity);
}

TEST(ImageBatchLoader, BatchesFollowThePureFunctionsOfSeedEpochAndPosition) {
  data::ImageBatchLoader loader(indexed_dataset(30), {.batch_size = 10, .random_flip = true, .seed = 9});
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    const std::vector<int64_t> perm = data::ImageBatchLoader::epoch_permutation(9, epoch, 30);
    for (int64_t b = 0; b < 3; ++b) {
      const data::ImageBatch batch = loader.next();
      for (int64_t i = 0; i < 10; ++i) {
        bool flipped = false;
        EXPECT_EQ(image_index(batch, i, &flipped), perm[static_cast<size_t>(b * 10 + i)]);
        EXPECT_EQ(flipped, data::ImageBatchLoader::flip_of(9, epoch, b * 10 + i));
      }
    }
  }
}

TEST(ImageBatchLoader, FlipsAreDeterministicMirrorImagesOfAboutHalfTheExamples) {
  const auto dataset = indexed_dataset(200);
  data::ImageBatchLoader a(dataset, {.batch_size = 100, .random_flip = true, .seed = 2});
  data::ImageBatchLoader b(dataset, {.batch_size = 100, .random_flip = true, .seed = 2});
  data::ImageBatchLoader plain(dataset, {.batch_size = 100, .random_flip = false, .seed = 2});
  int64_t flipped_count = 0;
  for (int i = 0; i < 4; ++i) {
    const data::ImageBatch x = a.next(), y = b.next(), z = plain.next();
    const float* px = x.images.data_ptr<float>();
    const float* pz = z.images.data_ptr<float>();
    for (int64_t e = 0; e < x.images.numel(); ++e) ASSERT_EQ(px[e], y.images.data_ptr<float>()[e]);
    for (int64_t n = 0; n < 100; ++n) {
      bool flipped = false;
      EXPECT_EQ(image_index(x, n, &flipped), image_index(z, n));  // flips do not change which image
      flipped_count += flipped;
      // A flipped image is its unflipped twin mirrored left-right.
      for (int64_t row = 0; row < kSide; ++row)
        for (int64_t col = 0; col < kSide; ++col) {
          const int64_t at = n * 16 + row * kSide;
          EXPECT_EQ(px[at + col], pz[at + (flipped ? kSide - 1 - col : col)]);
        }
    }
  }
  EXPECT_GT(flipped_count, 150);
  EXPECT_LT(flipped_count, 250);
}

TEST(ImageBatchLoader, SeekAndLoadStateContinueExactlyAsAnUninterruptedLoader) {
  const auto dataset = indexed_dataset(30);
  const data::ImageLoaderOptions options{.batch_size = 7, .random_flip = true, .seed = 11, .prefetch_batches = 3};
  data::ImageBatchLoader uninterrupted(dataset, options);
  const auto all = take(uninterrupted, 12);  // 3 epochs of 4 batches

  data::ImageBatchLoader first(dataset, options);
  take(first, 6);
  const nlohmann::json state = first.state();
  EXPECT_EQ(state, (nlohmann::json{{"epoch", 1}, {"batch", 2}, {"seed", 11}}));
  data::ImageBatchLoader resumed(dataset, options);
  take(resumed, 1);  // it has already prefetched; load_state must discard that
  resumed.load_state(state);
  EXPECT_EQ(take(resumed, 6), std::vector<std::vector<int64_t>>(all.begin() + 6, all.end()));

  data::ImageBatchLoader seeking(dataset, options);
  seeking.seek({2, 1});
  EXPECT_EQ(seeking.position().epoch, 2);
  EXPECT_EQ(take(seeking, 3), std::vector<std::vector<int64_t>>(all.begin() + 9, all.end()));
  seeking.seek({0, 0});
  EXPECT_EQ(take(seeking, 2), std::vector<std::vector<int64_t>>(all.begin(), all.begin() + 2));
}

TEST(ImageBatchLoader, SeveralDecodeThreadsGiveTheSameBatches) {
  const auto dataset = indexed_dataset(50);
  data::ImageBatchLoader one(dataset, {.batch_size = 16, .random_flip = true, .seed = 3, .decode_threads = 1});
  data::ImageBatchLoader three(dataset, {.batch_size = 16, .random_flip = true, .seed = 3, .decode_threads = 3});
  for (int i = 0; i < 6; ++i) {
    const data::ImageBatch a = one.next(), b = three.next();
    for (int64_t e = 0; e < a.images.numel(); ++e)
      ASSERT_EQ(a.images.data_ptr<float>()[e], b.images.data_ptr<float>()[e]);
    for (int64_t e = 0; e < 16; ++e) ASSERT_EQ(a.labels.data_ptr<int64_t>()[e], b.labels.data_ptr<int64_t>()[e]);
  }
}

TEST(ImageBatchLoader, RefusesAStateOfAnotherSeedOrPosition) {
  data::ImageBatchLoader loader(indexed_dataset(20), {.batch_size = 5, .seed = 4});
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        loader.load_state({{"epoch", 0}, {"batch", 1}, {"seed", 8}});
      },
      {"seed 8", "seed 4"}));
  EXPECT_TRUE(throws_error_mentioning([&] { loader.seek({0, 4}); }, {"batch 4", "4 batches"}));
  EXPECT_TRUE(throws_error_mentioning([&] { loader.load_state({{"epoch", 0}}); }, {"load_state"}));
  EXPECT_TRUE(throws_error_mentioning([&] { data::ImageBatchLoader(indexed_dataset(3), {.batch_size = 5}); },
                                      {"holds 3 images, fewer than one batch of 5"}));
}

TEST(ImageBatchLoader, CarriesTheLabels) {
  data::ImageBatchLoader loader(indexed_dataset(50), {.batch_size = 10, .seed = 1});
  for (int i = 0; i < 5; ++i) {
    const data::ImageBatch batch = loader.next();
    ASSERT_TRUE(batch.labels.defined());
    ASSERT_EQ(batch.labels.dtype(), DType::i64);
    const std::vector<int64_t> indices = indices_of(batch);
    for (int64_t b = 0; b < 10; ++b) EXPECT_EQ(batch.labels.data_ptr<int64_t>()[b], indices[b] % 10);
  }
}

// A dataset whose reads are slow and counted, and that fails at one index when asked to.
class SlowDataset final : public data::ImageDataset {
 public:
  SlowDataset(int64_t fail_at) : base_(indexed_dataset(64)), fail_at_(fail_at) {}
  const data::ImageDatasetInfo& info() const override { return base_->info(); }
  int64_t read(int64_t index, uint8_t* pixels) const override {
    ++reads;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (index == fail_at_) throw Error("slow dataset: cannot read image " + std::to_string(index));
    return base_->read(index, pixels);
  }
  mutable std::atomic<int64_t> reads{0};

 private:
  std::shared_ptr<const data::ImageDataset> base_;
  int64_t fail_at_;
};

TEST(ImageBatchLoader, ShutsDownCleanlyWhenDestroyedMidEpoch) {
  auto dataset = std::make_shared<SlowDataset>(-1);
  const auto start = std::chrono::steady_clock::now();
  {
    data::ImageBatchLoader loader(dataset, {.batch_size = 8, .seed = 1, .prefetch_batches = 2});
    loader.next();
  }  // the worker is decoding the following batches now
  const int64_t reads_after = dataset->reads;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(dataset->reads, reads_after) << "the decoding thread outlived its loader";
  EXPECT_LE(reads_after, 8 * 4);  // it stopped after at most the prefetched batches plus one
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ImageBatchLoader, RethrowsADecodingErrorFromTheBackgroundThread) {
  const std::vector<int64_t> perm = data::ImageBatchLoader::epoch_permutation(1, 0, 64);
  const int64_t bad = perm[20];  // in the third batch of 8
  data::ImageBatchLoader loader(std::make_shared<SlowDataset>(bad), {.batch_size = 8, .seed = 1});
  loader.next();
  loader.next();
  EXPECT_TRUE(throws_error_mentioning([&] { loader.next(); }, {"cannot read image " + std::to_string(bad)}));
}

TEST(DrawUniform, DrawsWithReplacementFromTheGenerator) {
  const auto dataset = indexed_dataset(10);
  Generator g1(7), g2(7);
  const data::ImageBatch a = data::draw_uniform(*dataset, 200, g1, true);
  const data::ImageBatch b = data::draw_uniform(*dataset, 200, g2, true);
  ASSERT_EQ(a.images.shape(), (Shape{200, 1, kSide, kSide}));
  EXPECT_EQ(indices_of(a), indices_of(b));
  EXPECT_GT(g1.offset(), 0u);  // it consumed the generator's stream
  std::set<int64_t> distinct;
  int64_t flipped_count = 0;
  for (int64_t n = 0; n < 200; ++n) {
    bool flipped = false;
    distinct.insert(image_index(a, n, &flipped));
    flipped_count += flipped;
    EXPECT_EQ(a.labels.data_ptr<int64_t>()[n], image_index(a, n) % 10);
  }
  EXPECT_EQ(distinct.size(), 10u);  // 200 draws from 10 repeat images
  EXPECT_GT(flipped_count, 60);
  EXPECT_LT(flipped_count, 140);
  const data::ImageBatch next = data::draw_uniform(*dataset, 200, g1, false);
  EXPECT_NE(indices_of(next), indices_of(a));
}

}  // namespace
}  // namespace gantry
