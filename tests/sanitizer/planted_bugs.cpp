// Deliberate bugs, one per test, for the sanitizer build to catch (tests/sanitizer/CMakeLists.txt runs
// each one and expects its report). They run in a GoogleTest binary linked with the engine and
// OpenBLAS like every suite, so a quirk of either that hid reports would fail these tests.
#include <gtest/gtest.h>

#include <climits>
#include <vector>

#include "engine/ops/ops.h"

namespace gantry {
namespace {

TEST(PlantedBugs, ReadOnePastATensor) {
  const Tensor t = zeros({3});  // 12 bytes: the CPU allocator must not hide the overrun in padding
  volatile float past_the_end = t.data_ptr<float>()[3];
  (void)past_the_end;
}

TEST(PlantedBugs, ReadAFreedTensor) {
  float* data = nullptr;
  {
    const Tensor t = ones({8});
    data = t.data_ptr<float>();
  }
  volatile float freed = data[0];
  (void)freed;
}

TEST(PlantedBugs, SignedOverflowAfterAMatmul) {
  // An OpenBLAS call first; y[0][0] = 2, so big = INT_MAX.
  const Tensor y = matmul(ones({2, 2}), ones({2, 2}));
  volatile int big = INT_MAX - 2 + static_cast<int>(y.data_ptr<float>()[0]);
  volatile int overflow = big + 1;
  (void)overflow;
}

TEST(PlantedBugs, LeakedBuffer) {
  auto* leaked = new std::vector<float>(1000, 1.0f);
  volatile float first = (*leaked)[0];
  (void)first;
  leaked = nullptr;
}

}  // namespace
}  // namespace gantry
