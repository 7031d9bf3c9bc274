// Weight clipping (optim::clip_weights_) against a naive clamp, its edge values (NaN, infinities,
// the bounds), bad input that must change nothing, and the CUDA multi-tensor kernel against the CPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/ops/ops.h"
#include "engine/optim/weight_clip.h"
#include "tests/support/error_matchers.h"
#include "tests/support/test_util.h"

namespace gantry {
namespace {

using testing::throws_error_mentioning;

// std::clamp of every element, in double (exact for float and double inputs).
std::vector<double> clamped(const Tensor& t, double c) {
  std::vector<double> v = to_vector<double>(t.to(DType::f64));
  for (double& x : v) x = std::clamp(x, -c, c);
  return v;
}

TEST(WeightClip, ClampsEveryTensorInPlaceAndLeavesInsideValuesExact) {
  Tensor a = testing::random_uniform({3, 4}, 1, -0.05, 0.05, DType::f64).set_requires_grad(true);
  Tensor b = testing::random_uniform({7}, 2, -0.05, 0.05, DType::f32).set_requires_grad(true);
  const Tensor a0 = a.detach().clone(), b0 = b.detach().clone();
  const void* storage = a.data_ptr<double>();
  optim::clip_weights_({a, b}, 0.01);
  EXPECT_EQ(a.data_ptr<double>(), storage);  // in place: the module's own tensor changes
  EXPECT_EQ(to_vector<double>(a), clamped(a0, 0.01));
  EXPECT_EQ(to_vector<double>(b.to(DType::f64)), clamped(b0, static_cast<double>(0.01f)));
  int inside = 0, clipped = 0;
  for (double v : to_vector<double>(a0)) (std::abs(v) < 0.01 ? inside : clipped) += 1;
  EXPECT_GT(inside, 0);  // both branches are exercised
  EXPECT_GT(clipped, 0);
  EXPECT_TRUE(a.requires_grad());
}

TEST(WeightClip, NanStaysNanAndInfinitiesGoToTheBounds) {
  const double inf = std::numeric_limits<double>::infinity();
  Tensor p = from_vector(std::vector<double>{std::nan(""), inf, -inf, 0.5, -0.5, 0.25, -0.0}, {7});
  optim::clip_weights_({p}, 0.25);
  const std::vector<double> v = to_vector<double>(p);
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(std::vector<double>(v.begin() + 1, v.end()), (std::vector<double>{0.25, -0.25, 0.25, -0.25, 0.25, -0.0}));
  Tensor zero_box = from_vector(std::vector<double>{0.3, -0.2}, {2});
  optim::clip_weights_({zero_box}, 0);
  EXPECT_EQ(to_vector<double>(zero_box), (std::vector<double>{0.0, 0.0}));
}

TEST(WeightClip, BadInputThrowsNamingItAndChangesNothing) {
  Tensor good = from_vector(std::vector<double>{0.5, -0.5}, {2});
  const std::vector<double> before = to_vector<double>(good);
  EXPECT_TRUE(throws_error_mentioning([&] { optim::clip_weights_({good}, -0.01); }, {"clip_weights_", "-0.01"}));
  EXPECT_TRUE(throws_error_mentioning([&] { optim::clip_weights_({good}, std::nan("")); }, {"finite"}));
  const Tensor counts = arange(0, 4);
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        optim::clip_weights_({good, counts}, 0.1);
      },
      {"tensor 1", "floating point", "int64"}));
  const Tensor strided = testing::random_uniform({4, 3}, 3).permute({1, 0});
  EXPECT_TRUE(throws_error_mentioning([&] { optim::clip_weights_({good, strided}, 0.1); }, {"tensor 1", "contiguous"}));
  EXPECT_TRUE(throws_error_mentioning([&] { optim::clip_weights_({good, Tensor()}, 0.1); }, {"tensor 1 is undefined"}));
  EXPECT_EQ(to_vector<double>(good), before);
}

class WeightClipOnDevice : public testing::DeviceTest {};
GANTRY_INSTANTIATE_DEVICE_TEST(WeightClipOnDevice);

TEST_P(WeightClipOnDevice, TensorsOfBothDtypesAndSeveralChunksMatchTheCpu) {
  // 70,000 elements span two 64K-element chunks of the CUDA multi-tensor launch.
  const std::vector<std::pair<Shape, DType>> specs = {{{70'000}, DType::f32}, {{3, 5}, DType::f64}, {{2}, DType::f32}};
  std::vector<Tensor> on_cpu, on_device;
  uint64_t seed = 10;
  for (const auto& [shape, dtype] : specs) {
    const Tensor init = testing::random_uniform(shape, ++seed, -0.1, 0.1, dtype);
    on_cpu.push_back(init.clone());
    on_device.push_back(init.to(device()));
  }
  optim::clip_weights_(on_cpu, 0.03);
  optim::clip_weights_(on_device, 0.03);
  for (size_t i = 0; i < specs.size(); ++i) {
    EXPECT_TRUE(testing::all_close(on_device[i].to(kCPU), on_cpu[i], 0, 0)) << "tensor " << i;
    EXPECT_EQ(to_vector<double>(on_cpu[i].to(DType::f64)),
              clamped(testing::random_uniform(specs[i].first, 11 + i, -0.1, 0.1, specs[i].second),
                      specs[i].second == DType::f32 ? static_cast<double>(0.03f) : 0.03))
        << "tensor " << i;
  }
}

}  // namespace
}  // namespace gantry
