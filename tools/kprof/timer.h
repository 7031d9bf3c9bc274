#pragma once
// Kernel timing for the profiler: CUDA events on the engine's current stream, warm-up runs, the L2
// cache flushed before every timed run (by writing a buffer twice the L2 size), median of the runs.
#include <cuda_runtime.h>

#include <functional>
#include <vector>

namespace gantry::kprof {

class KernelTimer {
 public:
  KernelTimer(int device, int warmup, int runs);
  ~KernelTimer();
  KernelTimer(const KernelTimer&) = delete;
  KernelTimer& operator=(const KernelTimer&) = delete;

  // Median milliseconds of `runs` timed calls of `fn` (which must launch on stream()).
  double median_ms(const std::function<void()>& fn);
  cudaStream_t stream() const { return stream_; }
  size_t l2_bytes() const { return l2_bytes_; }

 private:
  void flush_l2();

  int warmup_, runs_;
  cudaStream_t stream_;
  cudaEvent_t start_, stop_;
  void* flush_buffer_ = nullptr;
  size_t l2_bytes_ = 0, flush_bytes_ = 0;
};

}  // namespace gantry::kprof
