// The embedding cache of image data core-sets (train/image/embedding_cache.h) and the core-set image
// sampler that reads it: a cache is reused only for the same dataset, embedder and projection; a stale
// one is rebuilt or refused, a damaged one is an error naming the file; the projection is a pure
// function of its seed; the sampler keeps the greedy k-center of its uniformly drawn candidates, with
// their labels, and a generator restored to the same state selects the same images.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "engine/random/generator.h"
#include "models/fid_inception_weights.h"
#include "tests/support/error_matchers.h"
#include "tests/support/shared_inception_folder.h"
#include "tests/support/temp_folder.h"
#include "train/coreset.h"
#include "train/data/embedded_dataset_source.h"
#include "train/data/in_memory_image_dataset.h"
#include "train/image/embedding_cache.h"
#include "train/image/image_data_samplers.h"
#include "train/image/image_embedder.h"

namespace gantry {
namespace {

namespace fs = std::filesystem;
using image::CachedEmbeddings;
using image::EmbeddingCacheKey;
using image::EmbeddingCacheOptions;
using image::EmbeddingCacheSource;
using testing::TempFolder;
using testing::throws_error_mentioning;

constexpr int64_t kC = 1, kSide = 4, kLabels = 5;

// n random 1x4x4 images labelled i % 5; `identity` stands for the digest train/data computes.
std::shared_ptr<const data::ImageDataset> dataset(int64_t n, uint64_t seed, const std::string& identity = "digest-a") {
  data::ImageDatasetInfo info;
  info.name = "tiny:train";
  info.size = n;
  info.channels = kC;
  info.height = info.width = kSide;
  info.num_classes = kLabels;
  info.identity = identity;
  Generator gen(seed);
  const Tensor u = rand({n * kC * kSide * kSide}, gen);
  std::vector<uint8_t> pixels(static_cast<size_t>(u.numel()));
  for (int64_t i = 0; i < u.numel(); ++i)
    pixels[static_cast<size_t>(i)] = static_cast<uint8_t>(u.data_ptr<float>()[i] * 255);
  std::vector<uint8_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) labels[static_cast<size_t>(i)] = static_cast<uint8_t>(i % kLabels);
  return std::make_shared<data::InMemoryImageDataset>(info, std::move(pixels), std::move(labels));
}

// Pixels, counting the images it embeds; `weights` stands for a network's weights hash.
class CountingEmbedder final : public image::ImageEmbedder {
 public:
  explicit CountingEmbedder(std::string weights = "w1") : weights_(std::move(weights)) {}
  std::string identity() const override { return "counting pixels, weights " + weights_; }
  int64_t dim() const override { return pixels_.dim(); }
  Tensor embed(const Tensor& images) override {
    embedded += images.size(0);
    return pixels_.embed(images);
  }
  int64_t embedded = 0;

 private:
  std::string weights_;
  image::PixelEmbedder pixels_{kC, kSide, kSide};
};

EmbeddingCacheOptions quiet(const TempFolder& tmp) {
  EmbeddingCacheOptions o;
  o.folder = tmp.sub("embeddings");
  o.batch = 7;  // several batches, the last one partial
  o.progress = nullptr;
  return o;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.nbytes() == b.nbytes() && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

TEST(EmbeddingCache, TheFirstRunBuildsTheCacheAndTheSecondLoadsTheSameRowsWithoutEmbedding) {
  TempFolder tmp("embedding_cache_hit");
  const auto data = dataset(30, 1);
  CountingEmbedder embedder;
  const EmbeddingCacheKey key = EmbeddingCacheKey::of(data->info(), "pixels", embedder, 5, 8);
  const CachedEmbeddings built = image::load_or_build_embeddings(*data, embedder, key, quiet(tmp));
  EXPECT_EQ(built.source, EmbeddingCacheSource::built);
  EXPECT_EQ(embedder.embedded, 30);
  ASSERT_EQ(built.points.shape(), (Shape{30, 8}));
  EXPECT_TRUE(fs::exists(built.path));
  const CachedEmbeddings loaded = image::load_or_build_embeddings(*data, embedder, key, quiet(tmp));
  EXPECT_EQ(loaded.source, EmbeddingCacheSource::loaded);
  EXPECT_EQ(embedder.embedded, 30) << "a cache hit embedded images again";
  EXPECT_EQ(loaded.path, built.path);
  EXPECT_TRUE(same_bytes(loaded.points, built.points));
}

TEST(EmbeddingCache, TheRowsAreEachImagesPixelsTimesTheSeededProjection) {
  TempFolder tmp("embedding_cache_rows");
  const auto data = dataset(12, 2);
  CountingEmbedder embedder;
  const EmbeddingCacheKey key = EmbeddingCacheKey::of(data->info(), "pixels", embedder, 9, 6);
  const Tensor points = image::load_or_build_embeddings(*data, embedder, key, quiet(tmp)).points;
  const Tensor projection = image::gaussian_projection(kC * kSide * kSide, 6, 9);
  std::vector<uint8_t> pixels(kC * kSide * kSide);
  for (int64_t i = 0; i < 12; ++i) {
    data->read(i, pixels.data());
    for (int64_t c = 0; c < 6; ++c) {
      double expected = 0;
      for (size_t p = 0; p < pixels.size(); ++p) {
        // The loader's (x/255)*2-1, mapped back to [0, 1].
        const double x = ((static_cast<double>(pixels[p]) / 255.0) * 2.0 - 1.0 + 1.0) * 0.5;
        expected += x * projection.data_ptr<float>()[p * 6 + c];
      }
      EXPECT_NEAR(points.data_ptr<float>()[i * 6 + c], expected, 1e-4) << "image " << i << " dim " << c;
    }
  }
}

TEST(EmbeddingCache, AChangedDatasetDigestIsDetectedAndTheCacheRebuiltOrRefused) {
  TempFolder tmp("embedding_cache_stale_dataset");
  CountingEmbedder embedder;
  const auto before = dataset(20, 3, "digest-a");
  const auto key_before = EmbeddingCacheKey::of(before->info(), "pixels", embedder, 0, 4);
  const CachedEmbeddings first = image::load_or_build_embeddings(*before, embedder, key_before, quiet(tmp));
  // Same name and shape, other files: the same cache file, holding another dataset's rows.
  const auto after = dataset(20, 4, "digest-b");
  const auto key_after = EmbeddingCacheKey::of(after->info(), "pixels", embedder, 0, 4);
  ASSERT_EQ(key_after.file_name(), key_before.file_name());
  EmbeddingCacheOptions refuse = quiet(tmp);
  refuse.rebuild_stale = false;
  EXPECT_TRUE(throws_error_mentioning([&] { image::load_or_build_embeddings(*after, embedder, key_after, refuse); },
                                      {first.path, "stale", "dataset_identity", "digest-a", "digest-b"}));
  const CachedEmbeddings rebuilt = image::load_or_build_embeddings(*after, embedder, key_after, quiet(tmp));
  EXPECT_EQ(rebuilt.source, EmbeddingCacheSource::rebuilt_stale);
  EXPECT_NE(rebuilt.stale_reason.find("dataset_identity"), std::string::npos) << rebuilt.stale_reason;
  EXPECT_FALSE(same_bytes(rebuilt.points, first.points));
  EXPECT_EQ(image::load_or_build_embeddings(*after, embedder, key_after, quiet(tmp)).source,
            EmbeddingCacheSource::loaded);
}

TEST(EmbeddingCache, ChangedEmbedderWeightsAreDetectedAndTheCacheRebuilt) {
  TempFolder tmp("embedding_cache_stale_weights");
  const auto data = dataset(10, 5);
  CountingEmbedder old_weights("w1"), new_weights("w2");
  image::load_or_build_embeddings(*data, old_weights, EmbeddingCacheKey::of(data->info(), "pixels", old_weights, 0, 4),
                                  quiet(tmp));
  const CachedEmbeddings again = image::load_or_build_embeddings(
      *data, new_weights, EmbeddingCacheKey::of(data->info(), "pixels", new_weights, 0, 4), quiet(tmp));
  EXPECT_EQ(again.source, EmbeddingCacheSource::rebuilt_stale);
  EXPECT_NE(again.stale_reason.find("weights w1"), std::string::npos) << again.stale_reason;
  EXPECT_EQ(new_weights.embedded, 10);
}

TEST(EmbeddingCache, AnotherProjectionSeedOrDimensionIsAnotherCacheFile) {
  const auto data = dataset(4, 6);
  CountingEmbedder e;
  const std::string base = EmbeddingCacheKey::of(data->info(), "pixels", e, 0, 32).file_name();
  EXPECT_NE(EmbeddingCacheKey::of(data->info(), "pixels", e, 1, 32).file_name(), base);
  EXPECT_NE(EmbeddingCacheKey::of(data->info(), "pixels", e, 0, 16).file_name(), base);
  // Without a projection the seed changes nothing, so it does not split the cache.
  EXPECT_EQ(EmbeddingCacheKey::of(data->info(), "pixels", e, 0, 0).file_name(),
            EmbeddingCacheKey::of(data->info(), "pixels", e, 7, 0).file_name());
  EXPECT_EQ(EmbeddingCacheKey::of(data->info(), "pixels", e, 7, 0).output_dim(), kC * kSide * kSide);
}

// Writes a cache, then replaces its file by `damage(bytes)`; loading must fail naming the file.
void expect_damage_is_an_error(const std::string& name, const std::function<std::string(const std::string&)>& damage,
                               const std::string& mentions) {
  TempFolder tmp("embedding_cache_damaged_" + name);
  const auto data = dataset(9, 7);
  CountingEmbedder embedder;
  const auto key = EmbeddingCacheKey::of(data->info(), "pixels", embedder, 0, 4);
  const std::string path = image::load_or_build_embeddings(*data, embedder, key, quiet(tmp)).path;
  io::write_file_atomic(path, damage(io::read_file(path)));
  EXPECT_TRUE(throws_error_mentioning([&] { image::load_or_build_embeddings(*data, embedder, key, quiet(tmp)); },
                                      {path, "damaged", mentions}))
      << name;
}

TEST(EmbeddingCache, ADamagedCacheFileIsAnErrorNamingTheFile) {
  expect_damage_is_an_error(
      "truncated", [](const std::string& b) { return b.substr(0, b.size() - 9); }, "");
  expect_damage_is_an_error(
      "garbage", [](const std::string&) { return std::string("not a tensor file at all"); }, "");
  expect_damage_is_an_error(
      "wrong_shape",
      [](const std::string&) {
        return io::serialize_safetensors(
            {{"embeddings", zeros({9, 3})}},
            EmbeddingCacheKey::of(dataset(9, 7)->info(), "pixels", CountingEmbedder(), 0, 4).metadata());
      },
      "expected float32 [9, 4]");
  expect_damage_is_an_error(
      "nan_row",
      [](const std::string&) {
        Tensor t = zeros({9, 4});
        t.data_ptr<float>()[4 * 5 + 1] = std::nanf("");
        return io::serialize_safetensors(
            {{"embeddings", t}},
            EmbeddingCacheKey::of(dataset(9, 7)->info(), "pixels", CountingEmbedder(), 0, 4).metadata());
      },
      "row 5 holds a non-finite value");
  expect_damage_is_an_error(
      "no_metadata",
      [](const std::string&) {
        return io::serialize_safetensors({{"embeddings", zeros({9, 4})}});
      },
      "format");
}

TEST(EmbeddingCache, TheProjectionIsAPureFunctionOfItsSeed) {
  const Tensor a = image::gaussian_projection(48, 8, 3), b = image::gaussian_projection(48, 8, 3);
  const Tensor c = image::gaussian_projection(48, 8, 4);
  EXPECT_TRUE(same_bytes(a, b));
  EXPECT_FALSE(same_bytes(a, c));
  // The same matrix the low-dimensional data sources use (train/data/embedded_dataset_source.h).
  Generator gen(3);
  EXPECT_TRUE(same_bytes(a, data::random_gaussian_projection(eye(48), 8, gen)));
  // Entries N(0, 1/d): the columns' squared norms average about in_dim / d.
  const Tensor big = image::gaussian_projection(4096, 16, 11);
  EXPECT_NEAR(sum(big * big).item<float>() / 4096.0, 1.0, 0.05);
}

TEST(ImageEmbedders, PixelsAndTheInceptionLayersAreAvailableAndUnknownNamesAreRefused) {
  for (const char* name : {"pixels", "inception-pool3", "inception-mixed_7a", "inception-mixed_6e"})
    EXPECT_NO_THROW(image::check_image_embedder_name(name)) << name;
  EXPECT_TRUE(throws_error_mentioning([] { image::check_image_embedder_name("vgg16"); },
                                      {"--coreset-embedding", "unknown embedding 'vgg16'", "pixels, inception-pool3"}));
  image::ImageEmbedderOptions o;
  o.channels = 3;
  o.height = o.width = 2;
  const auto pixels = image::make_image_embedder("pixels", o);
  EXPECT_EQ(pixels->dim(), 12);
  const Tensor images = rand({5, 3, 2, 2}, *std::make_unique<Generator>(1));
  EXPECT_TRUE(same_bytes(pixels->embed(images), images.reshape({5, 12})));
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        pixels->embed(rand({5, 1, 2, 2}, *std::make_unique<Generator>(1)));
      },
      {"expected images [N, 3, 2, 2]", "[5, 1, 2, 2]"}));
}

TEST(ImageEmbedders, InceptionLayersEmbedWithTheirWeightsAndNameThemInTheirIdentity) {
  image::ImageEmbedderOptions o;
  o.weights = "/nonexistent/pt_inception.pth";
  EXPECT_TRUE(throws_error_mentioning(
      [&] { (void)image::make_image_embedder("inception-pool3", o); },
      {"--coreset-weights", "/nonexistent/pt_inception.pth", "do not exist", models::kFidInceptionUrl}));
  SKIP_WITHOUT_INCEPTION_FOLDER();
  o.weights = testing::shared_inception_dir() + "/folded";
  // The per-layer weights stop at Mixed_7a: pool3 is refused, naming the missing file.
  EXPECT_TRUE(throws_error_mentioning([&] { (void)image::make_image_embedder("inception-pool3", o); },
                                      {"only through Mixed_7a", "weights_mixed_9_tower_1_conv_1.dat"}));
  const auto embedder = image::make_image_embedder("inception-mixed_6e", o);
  EXPECT_EQ(embedder->dim(), 768);
  const std::string digest = models::load_fid_inception_weights(o.weights).digest;
  EXPECT_NE(embedder->identity().find("mixed_6e"), std::string::npos) << embedder->identity();
  EXPECT_NE(embedder->identity().find(digest), std::string::npos) << embedder->identity();
  const Tensor images = rand({2, 1, 8, 8}, *std::make_unique<Generator>(4));
  const Tensor e = embedder->embed(images);
  EXPECT_EQ(e.shape(), (Shape{2, 768}));
  // Distinct images, distinct embeddings; the same image, the same one.
  EXPECT_GT(amax(abs(sub(e.slice(0, 0, 1), e.slice(0, 1, 2)))).item<double>(), 0.0);
  // Alone or in a batch, an image gets the same embedding up to float rounding (BLAS blocks by batch).
  const Tensor alone = embedder->embed(images.slice(0, 1, 2)), in_batch = e.slice(0, 1, 2);
  EXPECT_LT(amax(abs(sub(alone, in_batch))).item<double>(), 1e-5 * amax(abs(in_batch)).item<double>());
}

// ---- the sampler ----

std::shared_ptr<const image::ExampleEmbeddings> table_of(const data::ImageDataset& d, int64_t dim) {
  image::PixelEmbedder pixels(kC, kSide, kSide);
  return std::make_shared<image::TableEmbeddings>(
      image::embed_dataset(d, pixels, image::gaussian_projection(pixels.dim(), dim, 0), 64, nullptr), "test");
}

TEST(CoresetImageSampler, KeepsTheGreedyKCenterOfCandidatesDrawnUniformlyFromTheWholeDataset) {
  const auto data = dataset(500, 8);
  const auto table = table_of(*data, 3);
  image::CoresetImageSampler sampler(data, table, train::CoresetFactor{8.0}, false, kCPU);
  Generator gen(21);
  const auto s = sampler.select(16, gen, 0);
  ASSERT_EQ(s.candidates.size(), 128u);
  ASSERT_EQ(s.selected.size(), 16u);
  // The same draws by hand: 128 uniform indices, then greedy k-center's first point, over their rows.
  Generator replay(21);
  const auto candidates = to_vector<int64_t>(randint(0, 500, {128}, replay));
  EXPECT_EQ(s.candidates, candidates);
  const int64_t first = randint(0, 128, {1}, replay).item<int64_t>();
  const Tensor rows = table->rows(candidates);
  const auto chosen = train::greedy_k_center<float>(rows.data_ptr<float>(), 128, 3, 16, first);
  for (size_t i = 0; i < 16; ++i) EXPECT_EQ(s.selected[i], candidates[static_cast<size_t>(chosen[i])]) << i;
  EXPECT_EQ(gen.offset(), replay.offset()) << "the sampler drew more than the candidates and the first point";
  // Uniform over the whole dataset, not a prefix or one epoch's slice.
  EXPECT_GT(*std::max_element(s.candidates.begin(), s.candidates.end()), 450);
  // The kept set covers the pool better than the first 16 candidates do.
  const Tensor all = table->rows(s.candidates);
  std::vector<int64_t> kept, prefix;
  for (int64_t c : chosen) kept.push_back(c);
  for (int64_t i = 0; i < 16; ++i) prefix.push_back(i);
  EXPECT_LT(train::minimax_radius(all, kept), train::minimax_radius(all, prefix));
}

TEST(CoresetImageSampler, TheBatchHoldsTheSelectedImagesWithTheirLabelsAndFlips) {
  const auto data = dataset(60, 9);
  image::CoresetImageSampler sampler(data, table_of(*data, 4), train::CoresetFactor{4.0}, true, kCPU);
  Generator a(5), b(5);
  const auto s = sampler.select(8, a, 0);
  const train::RealBatch batch = sampler.sample_batch(8, b, 0);
  ASSERT_EQ(batch.examples.shape(), (Shape{8, kC, kSide, kSide}));
  ASSERT_TRUE(batch.labels.defined());
  ASSERT_EQ(s.flips.size(), 8u);
  const data::ImageBatch expected = data::gather_examples(*data, s.selected, s.flips);
  EXPECT_TRUE(same_bytes(batch.examples, expected.images));
  for (int64_t i = 0; i < 8; ++i)
    EXPECT_EQ(batch.labels.data_ptr<int64_t>()[i], s.selected[static_cast<size_t>(i)] % kLabels) << i;
  EXPECT_EQ(a.offset(), b.offset());
}

TEST(CoresetImageSampler, AGeneratorRestoredToTheSameStateSelectsTheSameImages) {
  const auto data = dataset(200, 10);
  image::CoresetImageSampler sampler(data, table_of(*data, 4), train::CoresetFactor{8.0}, true, kCPU);
  Generator straight(33);
  std::vector<image::CoresetImageSampler::Selection> uninterrupted;
  for (int step = 0; step < 4; ++step) uninterrupted.push_back(sampler.select(8, straight, step));
  Generator head(33);
  sampler.select(8, head, 0);
  sampler.select(8, head, 1);
  // What a checkpoint carries of the generator: its (seed, offset).
  Generator resumed(0);
  resumed.set_state(head.seed(), head.offset());
  for (int step = 2; step < 4; ++step) {
    const auto s = sampler.select(8, resumed, step);
    EXPECT_EQ(s.selected, uninterrupted[static_cast<size_t>(step)].selected) << "step " << step;
    EXPECT_EQ(s.flips, uninterrupted[static_cast<size_t>(step)].flips) << "step " << step;
  }
  EXPECT_NE(uninterrupted[2].selected, uninterrupted[3].selected);
}

TEST(CoresetImageSampler, DecodedPixelsMatchTheUnprojectedTable) {
  const auto data = dataset(40, 12);
  image::PixelEmbedder pixels(kC, kSide, kSide);
  const image::TableEmbeddings table(image::embed_dataset(*data, pixels, Tensor(), 16, nullptr), "table");
  const image::DecodedPixelEmbeddings decoded(data);
  const std::vector<int64_t> idx{3, 39, 0, 3};
  EXPECT_TRUE(same_bytes(table.rows(idx), decoded.rows(idx)));
  EXPECT_TRUE(throws_error_mentioning([&] { table.rows({40}); }, {"example 40", "40 rows"}));
}

}  // namespace
}  // namespace gantry
