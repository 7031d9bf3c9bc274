#include "tools/kprof/timer.h"

#include <algorithm>

#include "kernels/cuda/runtime.h"

namespace gantry::kprof {

KernelTimer::KernelTimer(int device, int warmup, int runs) : warmup_(warmup), runs_(runs) {
  stream_ = cuda::current_stream(device);
  int l2 = 0;
  GANTRY_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device));
  l2_bytes_ = static_cast<size_t>(l2);
  flush_bytes_ = std::max<size_t>(2 * l2_bytes_, size_t{64} << 20);
  GANTRY_CUDA_CHECK(cudaMalloc(&flush_buffer_, flush_bytes_));
  GANTRY_CUDA_CHECK(cudaEventCreate(&start_));
  GANTRY_CUDA_CHECK(cudaEventCreate(&stop_));
}

KernelTimer::~KernelTimer() {
  (void)cudaEventDestroy(start_);
  (void)cudaEventDestroy(stop_);
  (void)cudaFree(flush_buffer_);
}

void KernelTimer::flush_l2() {
  GANTRY_CUDA_CHECK(cudaMemsetAsync(flush_buffer_, 0x5a, flush_bytes_, stream_));
}

double KernelTimer::median_ms(const std::function<void()>& fn) {
  for (int i = 0; i < warmup_; ++i) fn();
  GANTRY_CUDA_CHECK(cudaStreamSynchronize(stream_));
  std::vector<double> times;
  for (int i = 0; i < runs_; ++i) {
    flush_l2();
    GANTRY_CUDA_CHECK(cudaEventRecord(start_, stream_));
    fn();
    GANTRY_CUDA_CHECK(cudaEventRecord(stop_, stream_));
    GANTRY_CUDA_CHECK(cudaEventSynchronize(stop_));
    float ms = 0;
    GANTRY_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
    times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  const size_t n = times.size();
  return n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
}

}  // namespace gantry::kprof
