// The CPU emulator of the CUDA execution model (kernels/cuda/emu): what it enforces that a GPU does
// not (barrier and warp-collective misuse, uninitialised shared memory, out-of-bounds device
// accesses, impossible launches: each an error naming the kernel), schedules, and the semantics of
// shuffles, atomics and WMMA. Built only with GANTRY_CUDA=EMU.
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <string>

#include "kernels/cuda/emu/schedule.h"
#include "tests/emu/emulator_test_kernels.h"

namespace gantry::emu_test {
namespace {

// Passes when `text` contains `part`; prints the whole text otherwise.
::testing::AssertionResult Mentions(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not mention '" << part << "'";
}

// Restores the schedule the process started with.
class ScheduleGuard {
 public:
  explicit ScheduleGuard(emu::Schedule s) : saved_(emu::current_schedule()) { emu::set_schedule(s); }
  ~ScheduleGuard() { emu::set_schedule(saved_); }

 private:
  emu::Schedule saved_;
};

TEST(CudaEmulator, BarrierReachedByPartOfTheBlockNamesKernelAndLine) {
  EXPECT_TRUE(partial_barrier(64, 0).ok) << "a barrier every thread reaches is fine";
  const Outcome o = partial_barrier(64, 16);
  ASSERT_FALSE(o.ok);
  EXPECT_TRUE(Mentions(o.error, "partial_barrier_kernel"));
  EXPECT_TRUE(Mentions(o.error, "__syncthreads at "));
  EXPECT_TRUE(Mentions(o.error, "emulator_test_kernels.cu:" + std::to_string(kPartialBarrierLine)));
  EXPECT_TRUE(Mentions(o.error, "reached by 48 of 64 threads"));
  EXPECT_TRUE(partial_barrier(64, 0).ok) << "a failed launch leaves the emulator usable";
}

TEST(CudaEmulator, ThreadsAtDifferentBarriersAreAnError) {
  const Outcome o = divergent_barriers(64);
  ASSERT_FALSE(o.ok);
  EXPECT_TRUE(Mentions(o.error, "divergent_barriers_kernel"));
  EXPECT_TRUE(Mentions(o.error, "different barriers"));
}

TEST(CudaEmulator, ShuffleWaitingForExitedLanesIsADeadlockNotAHang) {
  const Outcome o = shuffle_with_exited_lanes();
  ASSERT_FALSE(o.ok);
  EXPECT_TRUE(Mentions(o.error, "exited_lanes_kernel"));
  EXPECT_TRUE(Mentions(o.error, "deadlock"));
  EXPECT_TRUE(Mentions(o.error, "__shfl_xor_sync at "));
}

TEST(CudaEmulator, ShuffleReadingALaneOutsideTheMaskIsAnError) {
  const Outcome o = shuffle_reading_outside_mask();
  ASSERT_FALSE(o.ok);
  EXPECT_TRUE(Mentions(o.error, "outside_mask_kernel"));
  EXPECT_TRUE(Mentions(o.error, "which is not in the mask"));
}

TEST(CudaEmulator, ImpossibleLaunchesFailNamingTheKernel) {
  EXPECT_TRUE(launch_with(1, 1024, 0).ok);
  EXPECT_TRUE(launch_with(1, 32, 48 * 1024).ok);
  const Outcome too_many = launch_with(1, 1025, 0);
  ASSERT_FALSE(too_many.ok);
  EXPECT_TRUE(Mentions(too_many.error, "cudaErrorInvalidConfiguration"));
  EXPECT_TRUE(Mentions(too_many.error, "empty_kernel"));
  EXPECT_TRUE(Mentions(too_many.error, "block (1025, 1, 1) exceeds"));
  const Outcome no_blocks = launch_with(0, 32, 0);
  ASSERT_FALSE(no_blocks.ok);
  EXPECT_TRUE(Mentions(no_blocks.error, "empty launch"));
  const Outcome smem = launch_with(1, 32, 48 * 1024 + 1);
  ASSERT_FALSE(smem.ok);
  EXPECT_TRUE(Mentions(smem.error, "cudaErrorInvalidValue"));
  EXPECT_TRUE(Mentions(smem.error, "dynamic shared memory"));
}

#if defined(GANTRY_CUDA_EMU_CHECKS)
TEST(CudaEmulator, ReadingUnwrittenSharedMemoryIsAnError) {
  const Outcome o = read_uninitialised_shared(64);
  ASSERT_FALSE(o.ok);
  EXPECT_TRUE(Mentions(o.error, "uninitialised_shared_kernel"));
  EXPECT_TRUE(Mentions(o.error, "thread (63,0,0)"));
  EXPECT_TRUE(Mentions(o.error, "no thread of this block has written"));
  if (std::system("addr2line --version > /dev/null 2>&1") == 0) {
    EXPECT_TRUE(Mentions(o.error, "emulator_test_kernels.cu:" + std::to_string(kUninitialisedSharedLine)));
  }
}

TEST(CudaEmulator, SharedMemoryIsPerBlock) {
  const Outcome o = read_shared_written_by_another_block();
  ASSERT_FALSE(o.ok) << "block 1 must not see what block 0 wrote to its shared memory";
  EXPECT_TRUE(Mentions(o.error, "cross_block_shared_kernel"));
  EXPECT_TRUE(Mentions(o.error, "block (1,0,0)"));
}

TEST(CudaEmulator, SharedMemoryRaceAcrossWarpsIsAnErrorUnlessABarrierOrdersIt) {
  ScheduleGuard g({emu::ScheduleKind::forward, 0});
  std::vector<int> values;
  const Outcome racy = cross_warp_read(false, &values);
  ASSERT_FALSE(racy.ok) << "a read of another warp's write with no __syncthreads between must be reported";
  EXPECT_TRUE(Mentions(racy.error, "cross_warp_read_kernel"));
  EXPECT_TRUE(Mentions(racy.error, "shared-memory race"));
  EXPECT_TRUE(Mentions(racy.error, "thread (32,0,0)"));
  EXPECT_TRUE(Mentions(racy.error, "thread 0 wrote them"));
  EXPECT_TRUE(Mentions(racy.error, "then this thread reads them"));
  const Outcome ordered = cross_warp_read(true, &values);
  ASSERT_TRUE(ordered.ok) << ordered.error;
  for (int t = 32; t < 64; ++t) EXPECT_EQ(values[static_cast<size_t>(t)], t - 32);
}

TEST(CudaEmulator, SharedMemoryRaceInsideAWarpIsAnErrorUnlessSyncwarpOrdersIt) {
  ScheduleGuard g({emu::ScheduleKind::forward, 0});
  std::vector<int> values;
  const Outcome racy = lane_neighbour_read(false, &values);
  ASSERT_FALSE(racy.ok) << "lanes of one warp are not ordered without __syncwarp (independent thread scheduling)";
  EXPECT_TRUE(Mentions(racy.error, "lane_neighbour_read_kernel"));
  EXPECT_TRUE(Mentions(racy.error, "shared-memory race"));
  const Outcome ordered = lane_neighbour_read(true, &values);
  ASSERT_TRUE(ordered.ok) << ordered.error;
  for (int l = 1; l < 32; ++l) EXPECT_EQ(values[static_cast<size_t>(l)], (l - 1) * 10);
}

// Forward, thread t reads what thread t - 1 just overwrote (read after write); reverse, thread t - 1
// overwrites what thread t has read (write after read): both are the same missing barrier.
TEST(CudaEmulator, ReusingABufferWithoutASecondBarrierIsARaceUnderEverySchedule) {
  const std::pair<emu::ScheduleKind, const char*> cases[] = {{emu::ScheduleKind::forward, "thread 0 wrote them"},
                                                             {emu::ScheduleKind::reverse, "thread 63 read them"},
                                                             {emu::ScheduleKind::random, "shared-memory race"}};
  for (const auto& [kind, message] : cases) {
    ScheduleGuard g({kind, 5});
    const Outcome o = overwrite_after_read();
    ASSERT_FALSE(o.ok);
    EXPECT_TRUE(Mentions(o.error, "overwrite_after_read_kernel"));
    EXPECT_TRUE(Mentions(o.error, message));
  }
}

TEST(CudaEmulator, SharedAtomicsDoNotRace) { EXPECT_EQ(shared_counter(256), 256); }

TEST(CudaEmulator, OutOfBoundsDeviceWriteNamesKernelAndAllocation) {
  const Outcome o = write_past_the_end(40);
  ASSERT_FALSE(o.ok);
  EXPECT_TRUE(Mentions(o.error, "past_the_end_kernel"));
  EXPECT_TRUE(Mentions(o.error, "thread (8,0,0)"));  // i = 40 is block 1, thread 8
  EXPECT_TRUE(Mentions(o.error, "out-of-bounds device memory write"));
  EXPECT_TRUE(Mentions(o.error, "0 bytes past the end of a 160-byte allocation"));
}
#endif

TEST(CudaEmulator, SchedulesOrderThreadsForwardReverseAndRandomly) {
  {
    ScheduleGuard g({emu::ScheduleKind::forward, 0});
    EXPECT_EQ(last_writer(256), 255);
  }
  {
    ScheduleGuard g({emu::ScheduleKind::reverse, 0});
    EXPECT_EQ(last_writer(256), 0);
  }
  std::set<int> seen;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    ScheduleGuard g({emu::ScheduleKind::random, seed});
    const int first = last_writer(256);
    seen.insert(first);
  }
  EXPECT_GE(seen.size(), 2u) << "random schedules with different seeds should order threads differently";
}

TEST(CudaEmulator, CorrectKernelsGiveTheSameResultUnderEverySchedule) {
  const std::vector<double> values = {3, 9, 1, 9, 4, 9, 2, 0, 7, 9, 5, 8, 6, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9,
                                      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1};
  for (emu::Schedule s : {emu::Schedule{emu::ScheduleKind::forward, 0}, emu::Schedule{emu::ScheduleKind::reverse, 0},
                          emu::Schedule{emu::ScheduleKind::random, 7}, emu::Schedule{emu::ScheduleKind::random, 8}}) {
    ScheduleGuard g(s);
    EXPECT_EQ(tree_sum(3, 256), 3 * 256 * 255 / 2) << emu::schedule_name(s);
    EXPECT_EQ(tree_sum(2, 1024), 2 * 1024 * 1023 / 2) << emu::schedule_name(s);
    EXPECT_EQ(warp_argmax(values), 1) << emu::schedule_name(s);  // the first of the 9s
  }
}

TEST(CudaEmulator, ParseScheduleAcceptsTheDocumentedForms) {
  EXPECT_EQ(emu::parse_schedule("reverse").kind, emu::ScheduleKind::reverse);
  EXPECT_EQ(emu::parse_schedule("random:42").seed, 42u);
  EXPECT_THROW(emu::parse_schedule("sideways"), std::exception);
  EXPECT_THROW(emu::parse_schedule("random:x"), std::exception);
}

TEST(CudaEmulator, ShufflesFollowCudaLaneRules) {
  for (int width : {32, 16, 8}) {
    const std::vector<int> x = shuffles(0, width), idx = shuffles(1, width), up = shuffles(2, width),
                           down = shuffles(3, width);
    ASSERT_EQ(x.size(), 32u);
    for (int lane = 0; lane < 32; ++lane) {
      const int base = lane & ~(width - 1);
      const int xor_src = (lane ^ 3) < base + width ? lane ^ 3 : lane;
      EXPECT_EQ(x[lane], xor_src * 10) << "xor width " << width << " lane " << lane;
      EXPECT_EQ(idx[lane], (base + 5 % width) * 10) << "idx width " << width << " lane " << lane;
      EXPECT_EQ(up[lane], (lane - 2 >= base ? lane - 2 : lane) * 10) << "up width " << width << " lane " << lane;
      EXPECT_EQ(down[lane], (lane + 2 < base + width ? lane + 2 : lane) * 10) << "down width " << width;
    }
  }
}

TEST(CudaEmulator, AtomicMinOverManyThreads) {
  std::vector<uint64_t> v(1000);
  std::mt19937_64 gen(5);
  for (auto& x : v) x = gen() | (uint64_t{1} << 63);
  v[617] = (uint64_t{1} << 40) + 3;
  EXPECT_EQ(atomic_min(v), (uint64_t{1} << 40) + 3);
}

float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

TEST(CudaEmulator, Tf32RoundsToNearestWithTiesAwayFromZero) {
  const float one = 1.0f, ulp = std::ldexp(1.0f, -10);  // TF32 keeps 10 mantissa bits
  EXPECT_EQ(tf32_round(one + ulp / 2), one + ulp) << "a tie rounds away from zero";
  EXPECT_EQ(tf32_round(-(one + ulp / 2)), -(one + ulp));
  EXPECT_EQ(tf32_round(one + ulp + ulp / 2), one + 2 * ulp) << "away from zero, not to even";
  EXPECT_EQ(tf32_round(std::nextafter(one + ulp / 2, 0.0f)), one);
  EXPECT_EQ(tf32_round(std::nextafter(one + ulp / 2, 2.0f)), one + ulp);
  EXPECT_EQ(tf32_round(std::numeric_limits<float>::max()), std::numeric_limits<float>::infinity());
  EXPECT_EQ(tf32_round(-std::numeric_limits<float>::infinity()), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(tf32_round(std::numeric_limits<float>::quiet_NaN())));
  const float denormal = bits_to_float(0x00001000u);  // exactly half of the smallest TF32 denormal step
  EXPECT_EQ(tf32_round(denormal), bits_to_float(0x00002000u));
}

// Reference D = A * B + C with the operands rounded as the kernel rounds them, in double.
std::vector<float> reference(int precision, const std::vector<float>& a, const std::vector<float>& b,
                             const std::vector<float>& c, int k) {
  auto round = [&](float x) {
    return precision == 0 ? static_cast<double>(tf32_round(x))
                          : static_cast<double>(__bfloat162float(__float2bfloat16(x)));
  };
  std::vector<float> d(256);
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 16; ++j) {
      double s = c[static_cast<size_t>(i * 16 + j)];
      for (int kk = 0; kk < k; ++kk)
        s += round(a[static_cast<size_t>(i * k + kk)]) * round(b[static_cast<size_t>(kk * 16 + j)]);
      d[static_cast<size_t>(i * 16 + j)] = static_cast<float>(s);
    }
  return d;
}

TEST(CudaEmulator, WmmaTilesMatchARoundedReferenceForEveryLayout) {
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (int precision : {0, 1}) {
    const int k = precision == 0 ? 8 : 16;
    std::vector<float> a(static_cast<size_t>(16 * k)), b(static_cast<size_t>(k * 16)), c(256);
    for (auto* v : {&a, &b, &c})
      for (float& x : *v) x = dist(gen);
    const std::vector<float> expected = reference(precision, a, b, c, k);
    for (int layout = 0; layout < 4; ++layout) {
      const bool cols = layout & 1, d_col = layout & 2;
      const std::vector<float> got = wmma_tile(precision, a, b, c, cols, cols, d_col);
      ASSERT_EQ(got.size(), 256u);
      for (size_t i = 0; i < 256; ++i)
        ASSERT_NEAR(got[i], expected[i], 1e-5) << "precision " << precision << " layout " << layout << " element " << i;
    }
  }
}

TEST(CudaEmulator, ReportsAnH100) {
  int n = 0;
  ASSERT_EQ(cudaGetDeviceCount(&n), cudaSuccess);
  EXPECT_EQ(n, 1);
  cudaDeviceProp p{};
  ASSERT_EQ(cudaGetDeviceProperties(&p, 0), cudaSuccess);
  EXPECT_EQ(p.multiProcessorCount, 132);
  EXPECT_EQ(p.major * 10 + p.minor, 90);
  EXPECT_EQ(p.sharedMemPerBlock, 48u * 1024);
  EXPECT_EQ(p.sharedMemPerMultiprocessor, 228u * 1024);
  EXPECT_EQ(p.warpSize, 32);
  EXPECT_TRUE(Mentions(std::string(p.name), "emulator"));
  EXPECT_NE(cudaGetDeviceProperties(&p, 1), cudaSuccess);
}

TEST(CudaEmulator, CopiesOutsideAnAllocationFailWithTheReason) {
  void* d = nullptr;
  ASSERT_EQ(cudaMalloc(&d, 100), cudaSuccess);
  char host[200] = {};
  EXPECT_EQ(cudaMemcpy(d, host, 100, cudaMemcpyHostToDevice), cudaSuccess);
  const cudaError_t e = cudaMemcpy(d, host, 101, cudaMemcpyHostToDevice);
  EXPECT_EQ(e, cudaErrorInvalidValue);
  EXPECT_TRUE(Mentions(std::string(cudaGetErrorString(e)), "runs past the end of a 100-byte allocation"));
  (void)cudaGetLastError();
  EXPECT_EQ(cudaMemcpy(host, host + 100, 10, cudaMemcpyDeviceToHost), cudaErrorInvalidValue) << "source is host memory";
  (void)cudaGetLastError();
  ASSERT_EQ(cudaFree(d), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(host, d, 10, cudaMemcpyDeviceToHost), cudaErrorInvalidValue) << "use after free";
  EXPECT_TRUE(Mentions(std::string(cudaGetErrorString(cudaErrorInvalidValue)), "freed"));
  (void)cudaGetLastError();
}

}  // namespace
}  // namespace gantry::emu_test
