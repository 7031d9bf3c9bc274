#pragma once
// The CPU threads of the engine: OpenBLAS's for the GEMMs and a pool of the engine's own for the work
// around them (unfolding, bias and ReLU, pooling), which would otherwise run on one core while the
// GEMMs use all of them. One setting sizes both, so a `--threads N` run uses N cores in every op.
//
// parallel_for only ever splits work whose parts write disjoint outputs and whose every element is
// computed by the same code in the same order as on one thread, so the engine's own kernels give the
// same bits on every thread count (tests/unit/test_cpu_threads.cpp checks each). OpenBLAS's GEMMs do
// not: with another thread count they tile differently and may round the last bit differently.
#include <cstdint>
#include <functional>

namespace gantry {

// Sets OpenBLAS's thread count and the engine pool's to n >= 1. Until the first call both are
// OpenBLAS's own default (OPENBLAS_NUM_THREADS, else the logical CPUs).
void set_cpu_threads(int n);
int cpu_threads();

// Calls body(begin, end) on contiguous, disjoint, balanced ranges covering [0, n), in parallel on up
// to cpu_threads() threads (the calling thread takes ranges too). Ranges hold at least `grain` items,
// so work too small to be worth a thread's wake-up runs inline as body(0, n). Calls from
// inside a body, or while another thread's parallel_for is running, also run inline. The first
// exception a body throws is rethrown here once every range has ended.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& body);

// Items per range for parallel_for when each item is about `work_per_item` elementary operations:
// enough that one range is worth waking a thread for (min_work_per_range(), by default 65,536: a few
// tens of microseconds of work).
int64_t grain_for(int64_t work_per_item);
int64_t min_work_per_range();
// Tests set it to 1 so that small shapes take the parallel paths too.
void set_min_work_per_range(int64_t work);

}  // namespace gantry
