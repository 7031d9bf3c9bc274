// Kernels for the emulator's tests: small, several deliberately broken. Compiled like the CUDA
// backend (as C++ with the emulator's prelude), only in GANTRY_CUDA=EMU builds.
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <mma.h>

#include "kernels/cuda/launch.h"
#include "tests/emu/emulator_test_kernels.h"

namespace gantry::emu_test {

namespace {

using namespace nvcuda;

Outcome finish() {
  const cudaError_t launch = cudaGetLastError();
  const cudaError_t sync = cudaDeviceSynchronize();
  const cudaError_t e = launch != cudaSuccess ? launch : sync;
  if (e == cudaSuccess) return {};
  return {false, std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e)};
}

template <typename T>
T* device_array(size_t n) {
  void* p = nullptr;
  if (cudaMalloc(&p, n * sizeof(T)) != cudaSuccess) return nullptr;
  cudaMemset(p, 0, n * sizeof(T));
  return static_cast<T*>(p);
}

template <typename T>
std::vector<T> download(const T* p, size_t n) {
  std::vector<T> v(n);
  cudaMemcpy(v.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost);
  return v;
}

template <typename T>
T* upload(const std::vector<T>& v) {
  T* p = device_array<T>(v.size());
  cudaMemcpy(p, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice);
  return p;
}

// ---- barriers ------------------------------------------------------------------------------------

__global__ void partial_barrier_kernel(int exit_below, int* out) {
  if (static_cast<int>(threadIdx.x) < exit_below) return;
  __syncthreads();  // the line kPartialBarrierLine names
  out[threadIdx.x] = 1;
}
}  // namespace
const int kPartialBarrierLine = __LINE__ - 4;
namespace {

__global__ void divergent_barriers_kernel(int* out) {
  if (threadIdx.x % 2 == 0) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1;
}

__global__ void last_writer_kernel(int* out) {
  __shared__ int who;
  // Every thread writes, the schedule decides who is last (an exchange, so no race is reported).
  atomicExch(&who, static_cast<int>(threadIdx.x));
  __syncthreads();
  if (threadIdx.x == 0) *out = who;
}

__global__ void tree_sum_kernel(long long* total) {
  __shared__ long long partial[1024];
  partial[threadIdx.x] = threadIdx.x;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half >= 32; half /= 2) {
    if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x < 32) {
    long long v = partial[threadIdx.x];
    for (int off = 16; off > 0; off /= 2) v += __shfl_down_sync(0xffffffffu, v, off);
    if (threadIdx.x == 0) atomicAdd(reinterpret_cast<unsigned long long*>(total), static_cast<unsigned long long>(v));
  }
}

// ---- warps ---------------------------------------------------------------------------------------

__global__ void exited_lanes_kernel(int* out) {
  if (threadIdx.x >= 16) return;
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, static_cast<int>(threadIdx.x), 1);
}

__global__ void outside_mask_kernel(int* out) {
  if (threadIdx.x >= 16) return;
  out[threadIdx.x] = __shfl_xor_sync(0x0000ffffu, static_cast<int>(threadIdx.x), 16);  // lane ^ 16 is not in the mask
}

__global__ void argmax_kernel(const double* values, int n, long long* out) {
  double best = -1e300;
  long long index = -1;
  for (int i = static_cast<int>(threadIdx.x); i < n; i += 32)
    if (values[i] > best) best = values[i], index = i;
  for (int off = 16; off > 0; off /= 2) {
    const double other = __shfl_down_sync(0xffffffffu, best, off);
    const long long other_index = __shfl_down_sync(0xffffffffu, index, off);
    if (other > best || (other == best && other_index >= 0 && other_index < index)) best = other, index = other_index;
  }
  if (threadIdx.x == 0) *out = index;
}

__global__ void shuffles_kernel(int which, int width, int* out) {
  const int lane = static_cast<int>(threadIdx.x);
  int v = 0;
  if (which == 0) v = __shfl_xor_sync(0xffffffffu, lane * 10, 3, width);
  if (which == 1) v = __shfl_sync(0xffffffffu, lane * 10, 5, width);
  if (which == 2) v = __shfl_up_sync(0xffffffffu, lane * 10, 2, width);
  if (which == 3) v = __shfl_down_sync(0xffffffffu, lane * 10, 2, width);
  __syncwarp();
  out[lane] = v;
}

__global__ void atomic_min_kernel(const unsigned long long* values, int n, unsigned long long* out) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) atomicMin(out, values[i]);
}

// ---- memory --------------------------------------------------------------------------------------

__global__ void uninitialised_shared_kernel(int* out) {
  __shared__ int s[65];
  s[threadIdx.x] = static_cast<int>(threadIdx.x);  // element blockDim.x stays unwritten
  __syncthreads();
  out[threadIdx.x] = s[threadIdx.x + 1];  // the last thread reads it
}
}  // namespace
const int kUninitialisedSharedLine = __LINE__ - 3;
namespace {

__global__ void cross_block_shared_kernel(int* out) {
  __shared__ int s[32];
  if (blockIdx.x == 0) s[threadIdx.x] = 7;  // only block 0 fills its copy
  __syncthreads();
  out[blockIdx.x * 32 + threadIdx.x] = s[threadIdx.x];
}

// ---- shared-memory races ---------------------------------------------------------------------------

// Thread t >= 32 reads the slot thread t - 32 (another warp) wrote; without the barrier, a race.
__global__ void cross_warp_read_kernel(bool barrier, int* out) {
  __shared__ int s[64];
  s[threadIdx.x] = static_cast<int>(threadIdx.x);
  if (barrier) __syncthreads();
  out[threadIdx.x] = threadIdx.x >= 32 ? s[threadIdx.x - 32] : 0;
}

// Lane l > 0 reads the slot lane l - 1 wrote; without the __syncwarp, a race.
__global__ void lane_neighbour_read_kernel(bool syncwarp, int* out) {
  __shared__ int s[32];
  s[threadIdx.x] = static_cast<int>(threadIdx.x) * 10;
  if (syncwarp) __syncwarp();
  out[threadIdx.x] = threadIdx.x > 0 ? s[threadIdx.x - 1] : 0;
}

// Each thread reads its left neighbour's slot, then overwrites its own with no barrier between: the
// second __syncthreads of a buffer reused in place is missing. (Arrays with computed indices: GCC
// does not instrument accesses at addresses it knows statically, such as a scalar __shared__.)
__global__ void overwrite_after_read_kernel(int* out) {
  __shared__ int s[64];
  const unsigned t = threadIdx.x;
  s[t] = static_cast<int>(t);
  __syncthreads();
  const int left = s[(t + 63) % 64];
  s[t] = left * 2;
  out[t] = left;
}

// A shared counter every thread increments atomically between two barriers: no race.
__global__ void shared_counter_kernel(int* out) {
  __shared__ int count;
  if (threadIdx.x == 0) count = 0;
  __syncthreads();
  atomicAdd(&count, 1);
  __syncthreads();
  if (threadIdx.x == 0) *out = count;
}

__global__ void past_the_end_kernel(int n, int* out) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i <= n) out[i] = i;  // <= : one element too many
}

__global__ void empty_kernel() {}

// ---- WMMA ----------------------------------------------------------------------------------------

template <typename Precision, typename Element, int K>
__global__ void wmma_kernel(const float* a, const float* b, const float* c, float* d, bool a_col, bool b_col,
                            bool d_col) {
  __shared__ Element as[16 * K], bs[K * 16];
  for (int i = static_cast<int>(threadIdx.x); i < 16 * K; i += 32) {
    if constexpr (std::is_same_v<Element, float>) {
      as[i] = wmma::__float_to_tf32(a[i]);
      bs[i] = wmma::__float_to_tf32(b[i]);
    } else {
      as[i] = __float2bfloat16(a[i]);
      bs[i] = __float2bfloat16(b[i]);
    }
  }
  __syncthreads();
  wmma::fragment<wmma::accumulator, 16, 16, K, float> acc;
  wmma::load_matrix_sync(acc, c, 16, wmma::mem_row_major);
  if (a_col && b_col) {
    wmma::fragment<wmma::matrix_a, 16, 16, K, Precision, wmma::col_major> fa;
    wmma::fragment<wmma::matrix_b, 16, 16, K, Precision, wmma::col_major> fb;
    wmma::load_matrix_sync(fa, as, 16);
    wmma::load_matrix_sync(fb, bs, K);
    wmma::mma_sync(acc, fa, fb, acc);
  } else {
    wmma::fragment<wmma::matrix_a, 16, 16, K, Precision, wmma::row_major> fa;
    wmma::fragment<wmma::matrix_b, 16, 16, K, Precision, wmma::row_major> fb;
    wmma::load_matrix_sync(fa, as, K);
    wmma::load_matrix_sync(fb, bs, 16);
    wmma::mma_sync(acc, fa, fb, acc);
  }
  wmma::store_matrix_sync(d, acc, 16, d_col ? wmma::mem_col_major : wmma::mem_row_major);
}

std::vector<float> transpose(const std::vector<float>& m, int rows, int cols) {
  std::vector<float> t(m.size());
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) t[static_cast<size_t>(c * rows + r)] = m[static_cast<size_t>(r * cols + c)];
  return t;
}

// Launches with an n-int device buffer, then reports the launch (and, given `values`, the buffer
// when the launch succeeded).
template <typename LaunchFn>
Outcome with_buffer(size_t n, LaunchFn launch, std::vector<int>* values = nullptr) {
  int* out = device_array<int>(n);
  launch(out);
  const Outcome o = finish();
  if (o.ok && values != nullptr) *values = download(out, n);
  cudaFree(out);
  return o;
}

}  // namespace

Outcome partial_barrier(int threads, int exit_below) {
  return with_buffer(static_cast<size_t>(threads), [&](int* out) {
    GANTRY_LAUNCH(1, threads, 0, nullptr, partial_barrier_kernel)(exit_below, out);
  });
}

Outcome divergent_barriers(int threads) {
  return with_buffer(static_cast<size_t>(threads), [&](int* out) {
    GANTRY_LAUNCH(1, threads, 0, nullptr, divergent_barriers_kernel)(out);
  });
}

Outcome shuffle_with_exited_lanes() {
  return with_buffer(32, [&](int* out) { GANTRY_LAUNCH(1, 32, 0, nullptr, exited_lanes_kernel)(out); });
}

Outcome shuffle_reading_outside_mask() {
  return with_buffer(32, [&](int* out) { GANTRY_LAUNCH(1, 32, 0, nullptr, outside_mask_kernel)(out); });
}

Outcome read_uninitialised_shared(int threads) {
  return with_buffer(static_cast<size_t>(threads), [&](int* out) {
    GANTRY_LAUNCH(1, threads, 0, nullptr, uninitialised_shared_kernel)(out);
  });
}

Outcome read_shared_written_by_another_block() {
  return with_buffer(64, [&](int* out) { GANTRY_LAUNCH(2, 32, 0, nullptr, cross_block_shared_kernel)(out); });
}

Outcome write_past_the_end(int n) {
  return with_buffer(static_cast<size_t>(n), [&](int* out) {
    GANTRY_LAUNCH((n + 31) / 32 + 1, 32, 0, nullptr, past_the_end_kernel)(n, out);
  });
}

Outcome cross_warp_read(bool barrier, std::vector<int>* values) {
  return with_buffer(
      64, [&](int* out) { GANTRY_LAUNCH(1, 64, 0, nullptr, cross_warp_read_kernel)
                          (barrier, out); }, values);
}

Outcome lane_neighbour_read(bool syncwarp, std::vector<int>* values) {
  return with_buffer(
      32, [&](int* out) { GANTRY_LAUNCH(1, 32, 0, nullptr, lane_neighbour_read_kernel)
                          (syncwarp, out); }, values);
}

Outcome overwrite_after_read() {
  return with_buffer(64, [&](int* out) { GANTRY_LAUNCH(1, 64, 0, nullptr, overwrite_after_read_kernel)(out); });
}

int shared_counter(int threads) {
  int* out = device_array<int>(1);
  GANTRY_LAUNCH(1, threads, 0, nullptr, shared_counter_kernel)(out);
  const int n = finish().ok ? download(out, 1)[0] : -1;
  cudaFree(out);
  return n;
}

Outcome launch_with(unsigned grid, unsigned block, size_t smem) {
  GANTRY_LAUNCH(grid, block, smem, nullptr, empty_kernel)();
  return finish();
}

int last_writer(int threads) {
  int* out = device_array<int>(1);
  GANTRY_LAUNCH(1, threads, 0, nullptr, last_writer_kernel)(out);
  const int who = finish().ok ? download(out, 1)[0] : -1;
  cudaFree(out);
  return who;
}

int64_t tree_sum(int blocks, int threads) {
  long long* total = device_array<long long>(1);
  GANTRY_LAUNCH(blocks, threads, 0, nullptr, tree_sum_kernel)(total);
  const int64_t s = finish().ok ? download(total, 1)[0] : -1;
  cudaFree(total);
  return s;
}

int64_t warp_argmax(const std::vector<double>& values) {
  double* v = upload(values);
  long long* out = device_array<long long>(1);
  GANTRY_LAUNCH(1, 32, 0, nullptr, argmax_kernel)(v, static_cast<int>(values.size()), out);
  const int64_t r = finish().ok ? download(out, 1)[0] : -2;
  cudaFree(v);
  cudaFree(out);
  return r;
}

std::vector<int> shuffles(int which, int width) {
  int* out = device_array<int>(32);
  GANTRY_LAUNCH(1, 32, 0, nullptr, shuffles_kernel)(which, width, out);
  std::vector<int> r = finish().ok ? download(out, 32) : std::vector<int>{};
  cudaFree(out);
  return r;
}

uint64_t atomic_min(const std::vector<uint64_t>& values) {
  std::vector<unsigned long long> v(values.begin(), values.end());
  unsigned long long* d = upload(v);
  unsigned long long* out = upload(std::vector<unsigned long long>{~0ull});
  GANTRY_LAUNCH((values.size() + 127) / 128, 128, 0, nullptr, atomic_min_kernel)(d, static_cast<int>(v.size()), out);
  const uint64_t r = finish().ok ? download(out, 1)[0] : 0;
  cudaFree(d);
  cudaFree(out);
  return r;
}

std::vector<float> wmma_tile(int precision, const std::vector<float>& a, const std::vector<float>& b,
                             const std::vector<float>& c, bool a_col, bool b_col, bool d_col) {
  const int k = precision == 0 ? 8 : 16;
  float* da = upload(a_col ? transpose(a, 16, k) : a);
  float* db = upload(b_col ? transpose(b, k, 16) : b);
  float* dc = upload(c);
  float* dd = device_array<float>(256);
  if (precision == 0)
    GANTRY_LAUNCH(1, 32, 0, nullptr, wmma_kernel<wmma::precision::tf32, float, 8>)(da, db, dc, dd, a_col, b_col, d_col);
  else
    GANTRY_LAUNCH(1, 32, 0, nullptr, wmma_kernel<__nv_bfloat16, __nv_bfloat16, 16>)
    (da, db, dc, dd, a_col, b_col, d_col);
  std::vector<float> d = finish().ok ? download(dd, 256) : std::vector<float>{};
  if (d_col && !d.empty()) d = transpose(d, 16, 16);
  for (float* p : {da, db, dc, dd}) cudaFree(p);
  return d;
}

float tf32_round(float x) { return wmma::__float_to_tf32(x); }

}  // namespace gantry::emu_test
