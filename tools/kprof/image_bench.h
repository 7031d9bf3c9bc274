#pragma once
// Image-kernel benchmarks of gantry-kprof: convolution forward, input gradient, weight gradient and
// transposed convolution, pooling and fused attention on the shapes of DCGAN / SNGAN / SAGAN at 32x32
// and of the FID Inception network at 299x299. Each is checked against the CPU backend first and timed
// only if it matches; convolutions and pooling report the ratio to cuDNN on the same shape when the
// profiler is built with cuDNN (GANTRY_KPROF_CUDNN), attention the ratio to its composite of engine ops.
#include <nlohmann/json.hpp>

namespace gantry::kprof {

struct ImageBenchOptions {
  int warmup = 3;
  int runs = 20;
  bool quick = false;  // batch 64 (GAN) and 32 (Inception) only, fewer shapes
  bool check_only = false;  // every shape shrunk (batch 2, at most 13x13, at most 40 channels), no timing
};

// Runs the benchmarks on cuda:0, prints their table and returns the records as a JSON array;
// all_passed becomes false when any check failed.
nlohmann::json profile_image_kernels(const ImageBenchOptions& options, bool& all_passed);

}  // namespace gantry::kprof
