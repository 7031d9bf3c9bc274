#include "engine/core/cpu_threads.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/core/error.h"

namespace gantry {
namespace {

// True on the pool's workers and on a caller while it runs its own ranges: a parallel_for from there
// runs inline instead of waiting on workers that are busy with the outer one.
thread_local bool in_parallel_region = false;

// Workers sleep on a condition variable between jobs (they never spin, so they take nothing from
// OpenBLAS's threads while a GEMM runs) and take the ranges of a job from a shared counter.
class Pool {
 public:
  ~Pool() { stop_workers(); }

  // The job's ranges on `threads` threads (threads - 1 workers and the calling thread), or false
  // (nothing run) when another thread's job holds the pool.
  bool try_run(int threads, int64_t n, int64_t ranges, const std::function<void(int64_t, int64_t)>& body) {
    std::unique_lock<std::mutex> running(run_mutex_, std::try_to_lock);
    if (!running.owns_lock()) return false;
    if (static_cast<int>(workers_.size()) != threads - 1) {
      stop_workers();
      stopping_ = false;
      // A new worker waits for the next job, not the last one (generation_ changes only under run_mutex_).
      const uint64_t current = generation_;
      for (int i = 0; i < threads - 1; ++i) workers_.emplace_back([this, current] { work(current); });
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      body_ = &body;
      n_ = n;
      ranges_ = ranges;
      next_range_.store(0);
      busy_ = static_cast<int>(workers_.size());
      error_ = nullptr;
      ++generation_;
    }
    start_.notify_all();
    in_parallel_region = true;
    run_ranges();
    in_parallel_region = false;
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return busy_ == 0; });
    body_ = nullptr;
    if (error_) std::rethrow_exception(error_);
    return true;
  }

 private:
  void run_ranges() {
    for (;;) {
      const int64_t r = next_range_.fetch_add(1);
      if (r >= ranges_) return;
      // Balanced: every range holds floor(n / ranges) or one more items.
      const int64_t begin = r * n_ / ranges_, end = (r + 1) * n_ / ranges_;
      try {
        (*body_)(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
    }
  }

  void work(uint64_t seen) {
    in_parallel_region = true;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
      }
      run_ranges();
      std::lock_guard<std::mutex> lock(mutex_);
      if (--busy_ == 0) done_.notify_one();
    }
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    start_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
  }

  std::mutex run_mutex_;  // held by the thread whose job the pool runs
  std::mutex mutex_;      // guards everything below but the range counter
  std::condition_variable start_, done_;
  std::vector<std::thread> workers_;
  bool stopping_ = false;
  uint64_t generation_ = 0;
  const std::function<void(int64_t, int64_t)>* body_ = nullptr;
  int64_t n_ = 0, ranges_ = 0;
  std::atomic<int64_t> next_range_{0};
  int busy_ = 0;
  std::exception_ptr error_;
};

std::atomic<int> configured_threads{0};  // 0: not set, OpenBLAS's default

Pool& pool() {
  static Pool instance;
  return instance;
}

}  // namespace

void set_cpu_threads(int n) {
  GANTRY_CHECK(n >= 1, "CPU threads: must be at least 1, got ", n);
  openblas_set_num_threads(n);
  configured_threads.store(n);
}

int cpu_threads() {
  const int n = configured_threads.load();
  return n > 0 ? n : std::max(1, openblas_get_num_threads());
}

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& body) {
  if (n <= 0) return;
  if (in_parallel_region) return body(0, n);
  const int threads = cpu_threads();
  // At most n / grain ranges, so that each holds at least `grain` items.
  const int64_t ranges = std::min<int64_t>(threads, n / std::max<int64_t>(1, grain));
  if (ranges <= 1) return body(0, n);
  // The pool keeps one worker per configured thread, however few ranges this job has.
  if (!pool().try_run(threads, n, ranges, body)) body(0, n);
}

std::atomic<int64_t> min_work{int64_t{1} << 16};

int64_t min_work_per_range() { return min_work.load(); }

void set_min_work_per_range(int64_t work) {
  GANTRY_CHECK(work >= 1, "min work per range: must be at least 1, got ", work);
  min_work.store(work);
}

int64_t grain_for(int64_t work_per_item) {
  return std::max<int64_t>(1, min_work_per_range() / std::max<int64_t>(1, work_per_item));
}

}  // namespace gantry
