#pragma once
// Small kernels for the emulator's own tests (tests/emu/test_cuda_emulator.cpp), several broken on
// purpose; each host function launches one and reports the outcome.
#include <cstdint>
#include <string>
#include <vector>

namespace gantry::emu_test {

struct Outcome {
  bool ok = true;
  std::string error;  // cudaGetErrorName + cudaGetErrorString of the launch, when not ok
};

// The source line of each broken kernel's faulty statement, for checking that errors name it.
extern const int kPartialBarrierLine;
extern const int kUninitialisedSharedLine;

Outcome partial_barrier(int threads, int exit_below);  // threads < exit_below return early
Outcome divergent_barriers(int threads);               // odd and even threads at different barriers
Outcome shuffle_with_exited_lanes();                   // half a warp leaves before a full-mask shuffle
Outcome shuffle_reading_outside_mask();                // reads a lane the mask excludes
Outcome read_uninitialised_shared(int threads);        // reads an element nobody wrote
Outcome read_shared_written_by_another_block();        // block 1 reads what only block 0 wrote
Outcome write_past_the_end(int n);                     // writes out[n] of an n-element allocation
Outcome launch_with(unsigned grid, unsigned block, size_t smem);

// Shared-memory races (found with the memory checks on), each also run correctly synchronised:
// 64 threads, thread t >= 32 reads what thread t - 32 wrote, with or without __syncthreads between.
Outcome cross_warp_read(bool barrier, std::vector<int>* values);
// 32 lanes, lane l > 0 reads what lane l - 1 wrote, with or without __syncwarp between.
Outcome lane_neighbour_read(bool syncwarp, std::vector<int>* values);
// 64 threads each read the slot of thread t - 1, then overwrite their own without a barrier between.
Outcome overwrite_after_read();
// `threads` atomicAdds to one shared counter between barriers (no race): the count.
int shared_counter(int threads);

// The thread that wrote a shared variable last before a barrier: depends on the schedule (a race).
int last_writer(int threads);
// A barrier-and-shuffle tree reduction of 0..threads-1 per block plus an atomicAdd over blocks.
int64_t tree_sum(int blocks, int threads);
// Arg-max over values with ties, by __shfl_down_sync on a double and an int64 (lowest index wins).
int64_t warp_argmax(const std::vector<double>& values);
// Every lane's result of __shfl_xor_sync / __shfl_sync / __shfl_up_sync with the given width.
std::vector<int> shuffles(int which, int width);
// atomicMin over unsigned 64-bit values from many threads.
uint64_t atomic_min(const std::vector<uint64_t>& values);

// D = A * B + C through WMMA fragments: A m x k, B k x n, C and D m x n, row-major in and out.
// precision 0: TF32 m16n16k8, 1: BF16 m16n16k16. a_col / b_col load A / B from column-major copies;
// d_col stores D column-major (and transposes back).
std::vector<float> wmma_tile(int precision, const std::vector<float>& a, const std::vector<float>& b,
                             const std::vector<float>& c, bool a_col, bool b_col, bool d_col);
float tf32_round(float x);

}  // namespace gantry::emu_test
