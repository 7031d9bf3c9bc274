// Greedy k-center core-sets and the core-set samplers (Small-GAN).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <vector>

#include "engine/ops/ops.h"
#include "engine/random/generator.h"
#include "train/coreset.h"
#include "train/data/embedded_dataset_source.h"
#include "train/data/mixture_data_source.h"
#include "train/samplers.h"

namespace gantry {
namespace {

double sq_dist(const std::vector<double>& p, int64_t d, int64_t a, int64_t b) {
  double s = 0;
  for (int64_t j = 0; j < d; ++j) s += (p[a * d + j] - p[b * d + j]) * (p[a * d + j] - p[b * d + j]);
  return s;
}

TEST(GreedyKCenter, EachChosenPointIsTheFarthestFromThoseBefore) {
  Generator gen(11);
  const int64_t n = 400, d = 3, k = 30;
  const Tensor points = randn({n, d}, gen, DType::f64);
  const auto p = to_vector<double>(points);
  const auto idx = to_vector<int64_t>(train::greedy_k_center(points, k, gen));
  ASSERT_EQ(static_cast<int64_t>(idx.size()), k);
  EXPECT_EQ(std::set<int64_t>(idx.begin(), idx.end()).size(), idx.size()) << "duplicates";
  for (int64_t j = 1; j < k; ++j) {
    auto dist_to_chosen = [&](int64_t i) {
      double best = std::numeric_limits<double>::infinity();
      for (int64_t c = 0; c < j; ++c) best = std::min(best, sq_dist(p, d, i, idx[c]));
      return best;
    };
    const double chosen = dist_to_chosen(idx[j]);
    for (int64_t i = 0; i < n; ++i) {
      const double di = dist_to_chosen(i);
      EXPECT_LE(di, chosen) << "point " << i << " is farther than pick " << j;
      if (di == chosen) {
        EXPECT_GE(i, idx[j]) << "tie not broken by lowest index";
      }
    }
  }
}

TEST(GreedyKCenter, TiesGoToTheLowestIndex) {
  // Corners of a square: from corner 0 the opposite corner 3 is farthest; then corners 1 and 2 tie.
  const std::vector<double> pts = {1, 1, -1, 1, 1, -1, -1, -1};
  EXPECT_EQ(train::greedy_k_center(pts.data(), 4, 2, 3, 0), (std::vector<int64_t>{0, 3, 1}));
  EXPECT_EQ(train::greedy_k_center(pts.data(), 4, 2, 4, 2), (std::vector<int64_t>{2, 1, 0, 3}));
}

TEST(GreedyKCenter, FirstPointComesFromTheSeededGenerator) {
  Generator data_gen(5);
  const Tensor points = randn({200, 2}, data_gen);
  std::set<int64_t> firsts;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    Generator g(seed), g_again(seed);
    const auto a = to_vector<int64_t>(train::greedy_k_center(points, 10, g));
    const auto b = to_vector<int64_t>(train::greedy_k_center(points, 10, g_again));
    EXPECT_EQ(a, b);
    firsts.insert(a[0]);
  }
  EXPECT_GT(firsts.size(), 4u);
}

TEST(GreedyKCenter, CoversThePoolBetterThanARandomSubset) {
  data::MixtureOfGaussians mix(25);
  double coreset_radius = 0, random_radius = 0;
  const int seeds = 6;
  for (int seed = 0; seed < seeds; ++seed) {
    Generator gen(100 + seed);
    const Tensor pool = mix.sample(1024, gen);
    const auto chosen = to_vector<int64_t>(train::greedy_k_center(pool, 128, gen));
    const auto perm = to_vector<int64_t>(randperm(1024, gen));
    const std::vector<int64_t> random_subset(perm.begin(), perm.begin() + 128);
    coreset_radius += train::minimax_radius(pool, chosen) / seeds;
    random_radius += train::minimax_radius(pool, random_subset) / seeds;
  }
  EXPECT_LT(coreset_radius, 0.6 * random_radius) << "core-set " << coreset_radius << " random " << random_radius;
}

TEST(GreedyKCenter, RejectsBadArguments) {
  Generator gen(1);
  const Tensor points = randn({10, 2}, gen);
  EXPECT_THROW(train::greedy_k_center(points, 11, gen), Error);
  EXPECT_THROW(train::greedy_k_center(points, 0, gen), Error);
  EXPECT_THROW(train::greedy_k_center(randn({10}, gen), 2, gen), Error);
}

// A finite dataset of n distinct 1-D points that records how many examples each draw asked for.
class CountingSource final : public train::RealDataSource {
 public:
  explicit CountingSource(int64_t n) : n_(n) {}
  train::DrawnExamples draw(int64_t count, Generator& gen) override {
    requested.push_back(count);
    const Tensor idx = randint(0, n_, {count}, gen);
    const Tensor values = idx.to(DType::f32).reshape({count, 1});
    return {values, values};
  }
  std::string describe() const override { return "counting"; }
  std::vector<int64_t> requested;

 private:
  int64_t n_;
};

TEST(CoresetSamplers, DataPoolIsDrawnFromTheWholeDataset) {
  auto source = std::make_shared<CountingSource>(1000);
  train::CoresetDataSampler sampler(source, train::CoresetFactor{8.0});
  Generator gen(9);
  std::set<int64_t> seen;
  for (int step = 0; step < 40; ++step) {
    const auto batch = to_vector<float>(sampler.sample(16, gen, step));
    ASSERT_EQ(batch.size(), 16u);
    EXPECT_EQ(source->requested.back(), 128);  // f_x * B
    for (float v : batch) seen.insert(static_cast<int64_t>(v));
  }
  // Spread selections over a uniform pool reach both ends and most of the index range.
  EXPECT_LT(*seen.begin(), 20);
  EXPECT_GT(*seen.rbegin(), 980);
  EXPECT_GT(seen.size(), 400u);
}

TEST(CoresetSamplers, MixtureCoresetBatchesSpreadOverModes) {
  auto source = std::make_shared<data::MixtureDataSource>(data::MixtureOfGaussians(25));
  train::CoresetDataSampler coreset(source, train::CoresetFactor{8.0});
  train::UniformDataSampler uniform(source);
  Generator g1(21), g2(21);
  auto modes_hit = [&](const Tensor& batch) {
    const auto xy = to_vector<float>(batch);
    std::set<int> modes;
    for (size_t i = 0; i < xy.size(); i += 2)
      modes.insert(static_cast<int>(std::lround((xy[i] + 4) / 2) + 5 * std::lround((xy[i + 1] + 4) / 2)));
    return modes.size();
  };
  double coreset_modes = 0, uniform_modes = 0;
  for (int step = 0; step < 10; ++step) {
    coreset_modes += modes_hit(coreset.sample(32, g1, step));
    uniform_modes += modes_hit(uniform.sample(32, g2, step));
  }
  EXPECT_GE(coreset_modes / 10, 24.0);  // 32 picks from a 256-point pool reach (nearly) every mode
  EXPECT_GT(coreset_modes, uniform_modes);
}

TEST(CoresetSamplers, LatentCoresetSpreadsFurtherThanThePrior) {
  train::CoresetLatentSampler coreset(2, train::CoresetFactor{4.0});
  train::PriorLatentSampler prior(2);
  Generator g1(3), g2(3);
  double coreset_norm = 0, prior_norm = 0;
  for (int step = 0; step < 10; ++step) {
    const Tensor zc = coreset.sample(64, g1, step), zp = prior.sample(64, g2, step);
    ASSERT_EQ(zc.shape(), (Shape{64, 2}));
    coreset_norm += mean(sum(mul(zc, zc), {1})).item<double>();
    prior_norm += mean(sum(mul(zp, zp), {1})).item<double>();
  }
  // Prior: E|z|^2 = 2. k-center on a 4x pool prefers the outskirts of the pool.
  EXPECT_GT(coreset_norm, 1.3 * prior_norm);
}

TEST(LatentPriors, UniformPriorFillsTheHypercubeAndNormalIsTheDefault) {
  Generator g(5);
  const Tensor u = train::draw_latents(train::LatentPrior::uniform, 20000, 3, g);
  ASSERT_EQ(u.shape(), (Shape{20000, 3}));
  const std::vector<float> v = to_vector<float>(u);
  double sum = 0, sum_sq = 0;
  float lo = 1, hi = -1;
  for (float x : v) sum += x, sum_sq += double(x) * x, lo = std::min(lo, x), hi = std::max(hi, x);
  const double n = static_cast<double>(v.size());
  EXPECT_GE(lo, -1.0f);
  EXPECT_LE(hi, 1.0f);
  EXPECT_LT(lo, -0.999f);  // the whole interval is used
  EXPECT_GT(hi, 0.999f);
  EXPECT_NEAR(sum / n, 0.0, 0.01);           // std of the mean: 0.577 / sqrt(60000) = 0.0024
  EXPECT_NEAR(sum_sq / n, 1.0 / 3.0, 0.01);  // Var U(-1, 1) = 1/3
  // The prior sampler draws exactly draw_latents' stream; the default is N(0, 1) (randn).
  Generator a(6), b(6), c(6), d(6);
  train::PriorLatentSampler uniform_sampler(3, kCPU, train::LatentPrior::uniform);
  EXPECT_EQ(to_vector<float>(uniform_sampler.sample(16, a, 0)),
            to_vector<float>(train::draw_latents(train::LatentPrior::uniform, 16, 3, b)));
  train::PriorLatentSampler normal_sampler(3);
  EXPECT_EQ(to_vector<float>(normal_sampler.sample(16, d, 0)), to_vector<float>(randn({16, 3}, c)));
  EXPECT_EQ(train::parse_latent_prior("uniform"), train::LatentPrior::uniform);
  EXPECT_THROW(train::parse_latent_prior("cauchy"), Error);
}

TEST(LatentPriors, CoresetOfTheUniformPriorStaysInTheHypercube) {
  train::CoresetLatentSampler coreset(2, train::CoresetFactor{4.0}, kCPU, train::LatentPrior::uniform);
  Generator g(7);
  for (int step = 0; step < 5; ++step)
    for (float x : to_vector<float>(coreset.sample(64, g, step))) {
      EXPECT_GE(x, -1.0f);
      EXPECT_LE(x, 1.0f);
    }
}

TEST(CoresetFactor, AnnealsLinearlyToOne) {
  train::CoresetFactor f{4.0, true, 100};
  EXPECT_DOUBLE_EQ(f.at(0), 4.0);
  EXPECT_DOUBLE_EQ(f.at(50), 2.5);
  EXPECT_DOUBLE_EQ(f.at(100), 1.0);
  EXPECT_DOUBLE_EQ(f.at(500), 1.0);
  EXPECT_EQ(f.pool_size(64, 0), 256);
  EXPECT_EQ(f.pool_size(64, 100), 64);
  train::CoresetFactor fixed{8.0};
  EXPECT_EQ(fixed.pool_size(32, 1000), 256);
  EXPECT_THROW(train::CoresetFactor{0.5}.validate("test"), Error);
  EXPECT_THROW(train::CoresetLatentSampler(2, train::CoresetFactor{0.9}), Error);
}

}  // namespace
}  // namespace gantry

namespace gantry {
namespace {

TEST(EmbeddedDatasetSource, DrawsMatchingRowsFromTheWholeSet) {
  const int64_t n = 300;
  std::vector<float> ex(n * 3), emb(n * 2);
  for (int64_t i = 0; i < n; ++i) {
    ex[3 * i] = static_cast<float>(i), ex[3 * i + 1] = 0.5f * i, ex[3 * i + 2] = -1.0f * i;
    emb[2 * i] = static_cast<float>(i) * 2.0f, emb[2 * i + 1] = 7.0f;
  }
  data::EmbeddedDatasetSource source(from_vector(ex, {n, 3}), from_vector(emb, {n, 2}));
  Generator gen(17);
  std::set<int64_t> seen;
  for (int rep = 0; rep < 20; ++rep) {
    const auto drawn = source.draw(64, gen);
    const auto e = to_vector<float>(drawn.examples), m = to_vector<float>(drawn.embeddings);
    for (int64_t j = 0; j < 64; ++j) {
      ASSERT_EQ(m[2 * j], 2.0f * e[3 * j]) << "embedding row does not belong to its example";
      seen.insert(static_cast<int64_t>(e[3 * j]));
    }
  }
  EXPECT_GT(seen.size(), 250u);  // 1280 uniform draws from 300 hit ~98.6% of them
  EXPECT_THROW(data::EmbeddedDatasetSource(from_vector(ex, {n, 3}), zeros({n - 1, 2})), Error);
}

TEST(EmbeddedDatasetSource, GaussianProjectionRoughlyPreservesDistances) {
  Generator gen(23);
  const Tensor x = randn({40, 256}, gen, DType::f64);
  const Tensor p = data::random_gaussian_projection(x, 64, gen);
  ASSERT_EQ(p.shape(), (Shape{40, 64}));
  const auto xv = to_vector<double>(x), pv = to_vector<double>(p);
  double ratio_sum = 0;
  int count = 0;
  for (int64_t i = 0; i < 40; ++i)
    for (int64_t j = i + 1; j < 40; ++j) {
      const double ratio = sq_dist(pv, 64, i, j) / sq_dist(xv, 256, i, j);
      EXPECT_GT(ratio, 0.3);  // chi-square(64)/64 stays well inside [0.3, 2] for 780 pairs
      EXPECT_LT(ratio, 2.0);
      ratio_sum += ratio, ++count;
    }
  EXPECT_NEAR(ratio_sum / count, 1.0, 0.15);
}

}  // namespace
}  // namespace gantry
