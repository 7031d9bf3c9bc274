// CUDA 2-D convolution as implicit GEMM: no column matrix is ever written to global memory; each block
// gathers its operand tiles straight from the NCHW tensors into shared memory.
//
//   forward      rows = output pixels (N*OH*OW), cols = O, reduction = (tap, C)
//   input grad   rows = input pixels of one stride phase, cols = C, reduction = (tap, O); the pixels
//                (y, x) with y % stride_h == ph, x % stride_w == pw only ever read the taps whose offset
//                fits that phase, so every phase is a dense gather (blockIdx.z) and no zero taps are
//                multiplied in (a 4x4 stride-2 transposed conv does 1/4 of the naive work)
//   weight grad  rows = (C, KH, KW), cols = O, reduction = N*OH*OW, split over blockIdx.z into slices
//                that a second kernel sums in a fixed order (deterministic, no atomics)
//
// The reduction of the first two walks tap-major: for each tap (ki, kj) the source offset is uniform
// over the block, so a thread computes its pixel's source address once per tap and then reads BK
// channels of it. The weights are rearranged once per call into [tap][reduction][col] so their tiles
// load coalesced.
//
// Math, chosen by T and the matmul precision of gemm.h (GANTRY_CUDA_MATMUL / set_matmul_precision):
//   exact f32   FMA in f32, 128x128 (8x8 per thread) or 128x64 (8x4) tiles, k-steps of 8
//   f64         the same kernel with 64x64 tiles (4x4 per thread)
//   tf32, bf16  WMMA 16x16 fragments, 128x64 tiles over 8 warps (32x32 each), k-steps of 16; operands
//               are rounded to TF32/BF16 while being staged, accumulation is f32
// All paths prefetch the next k-step into registers while the current one is multiplied, zero-fill
// outside the tensors (any size works) and index with 32-bit offsets; batches whose tensors would need
// more are run in chunks of images.
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <mma.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <type_traits>

#include "engine/dispatch/conv_kernels.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/runtime.h"
#include "kernels/cuda/workspace.h"

namespace gantry::cuda {
namespace {

constexpr int kConvThreads = 256;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

int sm_count(int device) {
  static std::atomic<int> cache[64];
  if (device >= 0 && device < 64) {
    const int v = cache[device].load(std::memory_order_relaxed);
    if (v > 0) return v;
  }
  int v = 0;
  GANTRY_CUDA_CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, device));
  if (device >= 0 && device < 64) cache[device].store(v, std::memory_order_relaxed);
  return std::max(v, 1);
}

// ---- math policies: shared-memory layout, the multiply of one k-step, and the epilogue ----
// Both operand tiles are stored k-major: As[k][row], Bs[k][col].

// FMA in T. Thread (tm, tn) owns rows tm + kThreadsM i and cols tn + kThreadsN j; tm is the fast
// thread index, so a warp's stores cover consecutive output pixels, As reads are conflict-free and Bs
// reads broadcast.
template <typename T, int BM_, int BN_, int BK_, int TM_, int TN_>
struct FmaMath {
  using Elem = T;
  using Smem = T;
  static constexpr int BM = BM_, BN = BN_, BK = BK_, TM = TM_, TN = TN_;
  static constexpr int kThreadsM = BM / TM, kThreadsN = BN / TN;
  static_assert(kThreadsM * kThreadsN == kConvThreads, "one output block per thread");
  static constexpr int kLdA = BM + 4, kLdB = BN + 4;
  static constexpr int kSmemBytes = static_cast<int>(sizeof(T)) * BK * (kLdA + kLdB);
  struct Acc {
    T v[TM][TN];
  };
  __device__ static Smem convert(T x) { return x; }
  __device__ static void zero(Acc& acc) {
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
      for (int j = 0; j < TN; ++j) acc.v[i][j] = T(0);
  }
  __device__ static void mma(Acc& acc, const Smem* As, const Smem* Bs) {
    const int tm = threadIdx.x % kThreadsM, tn = threadIdx.x / kThreadsM;
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      T a[TM], b[TN];
#pragma unroll
      for (int i = 0; i < TM; ++i) a[i] = As[kk * kLdA + tm + kThreadsM * i];
#pragma unroll
      for (int j = 0; j < TN; ++j) b[j] = Bs[kk * kLdB + tn + kThreadsN * j];
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc.v[i][j] += a[i] * b[j];
    }
  }
  template <class Prob>
  __device__ static void epilogue(const Acc& acc, const Prob& prob, int row0, int col0, unsigned char*) {
    const int tm = threadIdx.x % kThreadsM, tn = threadIdx.x / kThreadsM;
    int row_off[TM];
#pragma unroll
    for (int i = 0; i < TM; ++i) row_off[i] = prob.row_offset(row0 + tm + kThreadsM * i);
    T* out = prob.out();
#pragma unroll
    for (int j = 0; j < TN; ++j) {
      const int col = col0 + tn + kThreadsN * j;
      if (col >= prob.ncols()) continue;
      const int col_off = prob.col_offset(col);
      const T b = prob.bias(col);
#pragma unroll
      for (int i = 0; i < TM; ++i)
        if (row_off[i] >= 0) out[row_off[i] + col_off] = acc.v[i][j] + b;
    }
  }
};

using FmaWide = FmaMath<float, 128, 128, 8, 8, 8>;
using FmaNarrow = FmaMath<float, 128, 64, 8, 8, 4>;
using FmaDouble = FmaMath<double, 64, 64, 8, 4, 4>;

namespace wmma = nvcuda::wmma;

template <MatmulPrecision P> struct WmmaTraits;
template <> struct WmmaTraits<MatmulPrecision::tf32> {
  using Smem = float;  // already rounded to TF32
  using Fragment = wmma::precision::tf32;
  static constexpr int kK = 8;
  static constexpr int kPad = 4;  // leading dims stay multiples of 16 bytes and fragments 32-byte aligned
  __device__ static float convert(float x) { return wmma::__float_to_tf32(x); }
};
template <> struct WmmaTraits<MatmulPrecision::bf16> {
  using Smem = __nv_bfloat16;
  using Fragment = __nv_bfloat16;
  static constexpr int kK = 16;
  static constexpr int kPad = 8;
  __device__ static __nv_bfloat16 convert(float x) { return __float2bfloat16(x); }
};

// Tensor cores: 8 warps in a 4 (rows) x 2 (cols) grid, each 32x32 as 2x2 fragments. A is read as a
// col-major fragment straight from the k-major tile. The epilogue stages the accumulators through
// shared memory (aliasing the operand tiles) column-major, so consecutive threads store consecutive
// rows (output pixels).
template <MatmulPrecision P>
struct WmmaMath {
  using Traits = WmmaTraits<P>;
  using Elem = float;
  using Smem = typename Traits::Smem;
  static constexpr int BM = 128, BN = 64, BK = 16;
  static constexpr int kLdA = BM + Traits::kPad, kLdB = BN + Traits::kPad, kLdC = BM + 4;
  static constexpr int kTileBytes = static_cast<int>(sizeof(Smem)) * BK * (kLdA + kLdB);
  static constexpr int kEpilogueBytes = static_cast<int>(sizeof(float)) * BN * kLdC;
  static constexpr int kSmemBytes = kTileBytes > kEpilogueBytes ? kTileBytes : kEpilogueBytes;
  static_assert(kConvThreads == 256, "8 warps");
  struct Acc {
    wmma::fragment<wmma::accumulator, 16, 16, Traits::kK, float> f[2][2];
  };
  __device__ static Smem convert(float x) { return Traits::convert(x); }
  __device__ static void zero(Acc& acc) {
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
      for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc.f[i][j], 0.0f);
  }
  __device__ static void mma(Acc& acc, const Smem* As, const Smem* Bs) {
    const int warp = threadIdx.x / 32, wm = warp / 2, wn = warp % 2;
#pragma unroll
    for (int ks = 0; ks < BK; ks += Traits::kK) {
      wmma::fragment<wmma::matrix_a, 16, 16, Traits::kK, typename Traits::Fragment, wmma::col_major> fa[2];
      wmma::fragment<wmma::matrix_b, 16, 16, Traits::kK, typename Traits::Fragment, wmma::row_major> fb[2];
#pragma unroll
      for (int i = 0; i < 2; ++i) wmma::load_matrix_sync(fa[i], As + ks * kLdA + wm * 32 + i * 16, kLdA);
#pragma unroll
      for (int j = 0; j < 2; ++j) wmma::load_matrix_sync(fb[j], Bs + ks * kLdB + wn * 32 + j * 16, kLdB);
#pragma unroll
      for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) wmma::mma_sync(acc.f[i][j], fa[i], fb[j], acc.f[i][j]);
    }
  }
  template <class Prob>
  __device__ static void epilogue(const Acc& acc, const Prob& prob, int row0, int col0, unsigned char* smem) {
    float* Cs = reinterpret_cast<float*>(smem);  // the main loop ended with __syncthreads
    const int warp = threadIdx.x / 32, wm = warp / 2, wn = warp % 2;
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
      for (int j = 0; j < 2; ++j)
        wmma::store_matrix_sync(Cs + (wn * 32 + j * 16) * kLdC + wm * 32 + i * 16, acc.f[i][j], kLdC,
                                wmma::mem_col_major);
    __syncthreads();
    const int ml = threadIdx.x % BM;
    const int row_off = prob.row_offset(row0 + ml);
    if (row_off < 0) return;
    float* out = prob.out();
    for (int nl = threadIdx.x / BM; nl < BN; nl += kConvThreads / BM) {
      const int col = col0 + nl;
      if (col < prob.ncols()) out[row_off + prob.col_offset(col)] = Cs[nl * kLdC + ml] + prob.bias(col);
    }
  }
};

// ---- problems: how a tile of each operand is gathered, and where a result goes ----

// Forward (transposed = false) and input gradient (transposed = true) of a convolution, as a gather
// from src [N, R, SH, SW] through the rearranged weight wt [taps, R, J] into out [N, J, OH, OW].
template <typename T>
struct GatherConvArgs {
  const T* src;
  const T* wt;
  const T* bias;  // [J] or null
  T* out;
  int R, J, SH, SW, OH, OW;
  int KW, taps;
  int stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
  int GY, GX, M;  // pixel grid of one phase (OH x OW forward), M = images * GY * GX
  int phases_w;   // stride_w for the input gradient, 1 forward
  bool transposed;
};

template <class Math>
struct GatherConvProblem {
  using T = typename Math::Elem;
  using S = typename Math::Smem;
  using Args = GatherConvArgs<T>;
  static constexpr int BM = Math::BM, BN = Math::BN, BK = Math::BK;
  static constexpr int kAPer = BM * BK / kConvThreads, kBPer = BN * BK / kConvThreads;
  static constexpr int kAStep = kConvThreads / BM;  // channel spacing of one thread's A elements
  static_assert(kConvThreads % BM == 0 && (BN * BK) % kConvThreads == 0, "tile must split over the threads");

  Args g;
  int ph = 0, pw = 0, chunks = 1;
  int a_img = -1, a_sy0 = 0, a_sx0 = 0;  // this thread's A row: image offset (-1 outside) and base position

  __device__ explicit GatherConvProblem(const Args& args) : g(args) {
    ph = static_cast<int>(blockIdx.z) / g.phases_w;
    pw = static_cast<int>(blockIdx.z) - ph * g.phases_w;
    chunks = (g.R + BK - 1) / BK;
    const int m = static_cast<int>(blockIdx.x) * BM + static_cast<int>(threadIdx.x) % BM;
    if (m < g.M) {
      const int per_image = g.GY * g.GX;
      const int n = m / per_image, rem = m - n * per_image;
      const int gy = rem / g.GX, gx = rem - gy * g.GX;
      a_img = n * g.R * g.SH * g.SW;
      a_sy0 = g.transposed ? gy : gy * g.stride_h;
      a_sx0 = g.transposed ? gx : gx * g.stride_w;
    }
  }

  __device__ int num_steps() const { return g.taps * chunks; }

  // Source offset of a tap for this block's phase; false when no pixel of the phase reads through it.
  __device__ bool tap_offsets(int tap, int& off_h, int& off_w) const {
    const int ki = tap / g.KW, kj = tap - ki * g.KW;
    if (!g.transposed) {
      off_h = ki * g.dil_h - g.pad_h;
      off_w = kj * g.dil_w - g.pad_w;
      return true;
    }
    // y = ph + stride gy reads output row (y + pad - ki dil) / stride = gy + (ph + pad - ki dil) / stride
    const int vh = ph + g.pad_h - ki * g.dil_h, vw = pw + g.pad_w - kj * g.dil_w;
    if (vh % g.stride_h != 0 || vw % g.stride_w != 0) return false;
    off_h = vh / g.stride_h;
    off_w = vw / g.stride_w;
    return true;
  }

  // The first step >= s whose tap this phase uses (uniform over the block).
  __device__ int next_step(int s) const {
    const int steps = num_steps();
    while (s < steps) {
      const int tap = s / chunks;
      int oh, ow;
      if (tap_offsets(tap, oh, ow)) return s;
      s = (tap + 1) * chunks;
    }
    return steps;
  }

  __device__ void fetch(int s, T (&ra)[kAPer], T (&rb)[kBPer]) const {
    const int tap = s / chunks, c0 = (s - tap * chunks) * BK;
    int off_h = 0, off_w = 0;
    tap_offsets(tap, off_h, off_w);
    const int sy = a_sy0 + off_h, sx = a_sx0 + off_w;
    const bool inside = a_img >= 0 && sy >= 0 && sy < g.SH && sx >= 0 && sx < g.SW;
    const int plane = g.SH * g.SW;
    const T* src = g.src + (inside ? a_img + sy * g.SW + sx : 0);
    const int kk0 = static_cast<int>(threadIdx.x) / BM;
#pragma unroll
    for (int r = 0; r < kAPer; ++r) {
      const int c = c0 + kk0 + kAStep * r;
      ra[r] = (inside && c < g.R) ? src[c * plane] : T(0);
    }
    const T* wt = g.wt + tap * g.R * g.J;
    const int col0 = static_cast<int>(blockIdx.y) * BN;
#pragma unroll
    for (int r = 0; r < kBPer; ++r) {
      const int e = static_cast<int>(threadIdx.x) + kConvThreads * r;
      const int c = c0 + e / BN, j = col0 + e % BN;
      rb[r] = (c < g.R && j < g.J) ? wt[c * g.J + j] : T(0);
    }
  }

  __device__ void store(const T (&ra)[kAPer], const T (&rb)[kBPer], S* As, S* Bs) const {
    const int ml = static_cast<int>(threadIdx.x) % BM, kk0 = static_cast<int>(threadIdx.x) / BM;
#pragma unroll
    for (int r = 0; r < kAPer; ++r) As[(kk0 + kAStep * r) * Math::kLdA + ml] = Math::convert(ra[r]);
#pragma unroll
    for (int r = 0; r < kBPer; ++r) {
      const int e = static_cast<int>(threadIdx.x) + kConvThreads * r;
      Bs[(e / BN) * Math::kLdB + e % BN] = Math::convert(rb[r]);
    }
  }

  __device__ int row_offset(int m) const {
    if (m >= g.M) return -1;
    const int per_image = g.GY * g.GX;
    const int n = m / per_image, rem = m - n * per_image;
    const int gy = rem / g.GX, gx = rem - gy * g.GX;
    const int oy = g.transposed ? ph + gy * g.stride_h : gy;
    const int ox = g.transposed ? pw + gx * g.stride_w : gx;
    if (oy >= g.OH || ox >= g.OW) return -1;
    return n * g.J * g.OH * g.OW + oy * g.OW + ox;
  }
  __device__ int col_offset(int j) const { return j * g.OH * g.OW; }
  __device__ int ncols() const { return g.J; }
  __device__ T bias(int j) const { return g.bias != nullptr ? g.bias[j] : T(0); }
  __device__ T* out() const { return g.out; }
};

// Weight gradient: out slice z [O, J] (J = C KH KW, stored [o][j]) gets the sum over the reduction
// range of slice z of x-gathered [J, k] times grad [k, O], k = (image, output pixel).
template <typename T>
struct WeightGradArgs {
  const T* x;     // [N, C, H, W]
  const T* grad;  // [N, O, OH, OW]
  T* out;         // [slices, O, J]
  int C, H, W, O, OH, OW, KH, KW, J;
  int stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
  int K;        // images * OH * OW
  int k_chunk;  // reduction length per slice, a multiple of the kernel's BK
  int64_t slice;
};

template <class Math>
struct WeightGradProblem {
  using T = typename Math::Elem;
  using S = typename Math::Smem;
  using Args = WeightGradArgs<T>;
  static constexpr int BM = Math::BM, BN = Math::BN, BK = Math::BK;
  static constexpr int kAPer = BM * BK / kConvThreads, kBPer = BN * BK / kConvThreads;
  static constexpr int kRowStep = kConvThreads / BK;  // row spacing of one thread's elements
  static_assert(kConvThreads % BK == 0 && (BM * BK) % kConvThreads == 0 && (BN * BK) % kConvThreads == 0,
                "tile must split over the threads");

  Args g;
  int k_begin = 0, k_end = 0;
  int a_chan[kAPer], a_dy[kAPer], a_dx[kAPer];  // per A row (c, ki, kj): c H W (-1 outside), tap offsets
  int b_off[kBPer];                             // per B col o: o OH OW (-1 outside)

  __device__ explicit WeightGradProblem(const Args& args) : g(args) {
    k_begin = static_cast<int>(blockIdx.z) * g.k_chunk;
    k_end = min(g.K, k_begin + g.k_chunk);
    const int taps = g.KH * g.KW, lane_row = static_cast<int>(threadIdx.x) / BK;
#pragma unroll
    for (int r = 0; r < kAPer; ++r) {
      const int j = static_cast<int>(blockIdx.x) * BM + lane_row + kRowStep * r;
      a_chan[r] = -1;
      a_dy[r] = a_dx[r] = 0;
      if (j < g.J) {
        const int c = j / taps, t = j - c * taps, ki = t / g.KW, kj = t - ki * g.KW;
        a_chan[r] = c * g.H * g.W;
        a_dy[r] = ki * g.dil_h - g.pad_h;
        a_dx[r] = kj * g.dil_w - g.pad_w;
      }
    }
#pragma unroll
    for (int r = 0; r < kBPer; ++r) {
      const int o = static_cast<int>(blockIdx.y) * BN + lane_row + kRowStep * r;
      b_off[r] = o < g.O ? o * g.OH * g.OW : -1;
    }
  }

  __device__ int num_steps() const { return k_end > k_begin ? (k_end - k_begin + BK - 1) / BK : 0; }
  __device__ int next_step(int s) const { return s; }

  __device__ void fetch(int s, T (&ra)[kAPer], T (&rb)[kBPer]) const {
    const int k = k_begin + s * BK + static_cast<int>(threadIdx.x) % BK;
    const bool valid = k < k_end;
    int n = 0, p = 0, oy = 0, ox = 0;
    if (valid) {
      const int pixels = g.OH * g.OW;
      n = k / pixels;
      p = k - n * pixels;
      oy = p / g.OW;
      ox = p - oy * g.OW;
    }
    const T* xi = g.x + n * g.C * g.H * g.W;
    const int iy0 = oy * g.stride_h, ix0 = ox * g.stride_w;
#pragma unroll
    for (int r = 0; r < kAPer; ++r) {
      const int iy = iy0 + a_dy[r], ix = ix0 + a_dx[r];
      const bool ok = valid && a_chan[r] >= 0 && iy >= 0 && iy < g.H && ix >= 0 && ix < g.W;
      ra[r] = ok ? xi[a_chan[r] + iy * g.W + ix] : T(0);
    }
    const T* gi = g.grad + n * g.O * g.OH * g.OW + p;
#pragma unroll
    for (int r = 0; r < kBPer; ++r) rb[r] = (valid && b_off[r] >= 0) ? gi[b_off[r]] : T(0);
  }

  __device__ void store(const T (&ra)[kAPer], const T (&rb)[kBPer], S* As, S* Bs) const {
    const int kk = static_cast<int>(threadIdx.x) % BK, lane_row = static_cast<int>(threadIdx.x) / BK;
#pragma unroll
    for (int r = 0; r < kAPer; ++r) As[kk * Math::kLdA + lane_row + kRowStep * r] = Math::convert(ra[r]);
#pragma unroll
    for (int r = 0; r < kBPer; ++r) Bs[kk * Math::kLdB + lane_row + kRowStep * r] = Math::convert(rb[r]);
  }

  __device__ int row_offset(int j) const { return j < g.J ? j : -1; }
  __device__ int col_offset(int o) const { return o * g.J; }
  __device__ int ncols() const { return g.O; }
  __device__ T bias(int) const { return T(0); }
  __device__ T* out() const { return g.out + static_cast<int64_t>(blockIdx.z) * g.slice; }
};

// One block per BM x BN output tile: stage a k-step, prefetch the next one into registers while the
// staged one is multiplied, then the problem's epilogue.
template <class Prob, class Math>
__global__ void __launch_bounds__(kConvThreads) implicit_gemm_kernel(const typename Prob::Args args) {
  using T = typename Math::Elem;
  using S = typename Math::Smem;
  __shared__ __align__(128) unsigned char smem[Math::kSmemBytes];
  S* As = reinterpret_cast<S*>(smem);
  S* Bs = As + Math::BK * Math::kLdA;
  const Prob prob(args);
  typename Math::Acc acc;
  Math::zero(acc);
  T ra[Prob::kAPer], rb[Prob::kBPer];
  const int steps = prob.num_steps();
  int s = prob.next_step(0);
  if (s < steps) prob.fetch(s, ra, rb);
  while (s < steps) {
    prob.store(ra, rb, As, Bs);
    __syncthreads();
    const int next = prob.next_step(s + 1);
    if (next < steps) prob.fetch(next, ra, rb);
    Math::mma(acc, As, Bs);
    __syncthreads();
    s = next;
  }
  Math::epilogue(acc, prob, static_cast<int>(blockIdx.x) * Math::BM, static_cast<int>(blockIdx.y) * Math::BN, smem);
}

// wt[tap][r][j] from w [O, C, taps]: (r, j) = (c, o) forward, (o, c) for the input gradient.
template <typename T>
__global__ void arrange_weight_kernel(T* wt, const T* w, int O, int C, int taps, bool for_input_grad, int total) {
  const int J = for_input_grad ? C : O, R = for_input_grad ? O : C;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    const int j = i % J, rest = i / J, r = rest % R, tap = rest / R;
    const int o = for_input_grad ? r : j, c = for_input_grad ? j : r;
    wt[i] = w[(o * C + c) * taps + tap];
  }
}

// out[i] = sum over slices of partial[z][i], in slice order.
template <typename T>
__global__ void sum_slices_kernel(T* out, const T* partial, int slice, int slices) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < slice; i += gridDim.x * blockDim.x) {
    T acc = T(0);
    for (int z = 0; z < slices; ++z) acc += partial[static_cast<int64_t>(z) * slice + i];
    out[i] = acc;
  }
}

// ---- host side ----

template <class M>
struct MathTag {
  using type = M;
};

// Calls launch(MathTag<...>) with the math for T and the current precision. wide: whether the exact
// f32 path should take 128-wide column tiles.
template <typename T, typename Launch>
void with_math(bool wide, Launch&& launch) {
  if constexpr (std::is_same_v<T, double>) {
    launch(MathTag<FmaDouble>{});
  } else {
    switch (matmul_precision()) {
      case MatmulPrecision::tf32: launch(MathTag<WmmaMath<MatmulPrecision::tf32>>{}); return;
      case MatmulPrecision::bf16: launch(MathTag<WmmaMath<MatmulPrecision::bf16>>{}); return;
      case MatmulPrecision::exact:
        if (wide) launch(MathTag<FmaWide>{});
        else launch(MathTag<FmaNarrow>{});
        return;
    }
  }
}

int to_int(int64_t v) { return static_cast<int>(v); }

void check_32bit(const char* op, const Tensor& t, const char* name) {
  GANTRY_CHECK(t.numel() <= INT_MAX, op, ": ", name, " ", shape_str(t.shape()),
               " has more than 2^31 - 1 elements, beyond the CUDA kernel's 32-bit indexing");
}

// Images per launch so that each launch's tensors index with 32-bit offsets.
int64_t images_per_launch(const char* op, int64_t images, int64_t per_image) {
  GANTRY_CHECK(per_image <= INT_MAX, op, ": one image needs ", per_image,
               " elements, beyond the CUDA kernel's 32-bit indexing");
  return std::max<int64_t>(1, std::min<int64_t>(images, INT_MAX / std::max<int64_t>(per_image, 1)));
}

template <typename T>
void arrange_weight(T* wt, const Tensor& w, bool for_input_grad, cudaStream_t stream) {
  const int total = to_int(w.numel());
  GANTRY_LAUNCH(grid_for(total, 256), 256, 0, stream, arrange_weight_kernel<T>)(
      wt, static_cast<const T*>(w.raw_data()), to_int(w.size(0)), to_int(w.size(1)), to_int(w.size(2) * w.size(3)),
      for_input_grad, total);
  GANTRY_CUDA_LAUNCH_CHECK();
}

// Runs a gather convolution over the batch in chunks: a.src / a.out point at image 0 and advance by
// src_image / out_image elements per image.
template <typename T>
void run_gather(GatherConvArgs<T> a, int64_t images, int64_t src_image, int64_t out_image, int phases, int device,
                const char* op, cudaStream_t stream) {
  GANTRY_CHECK(phases <= 65535, op, ": stride product ", phases, " exceeds the CUDA kernel's limit of 65535");
  const int64_t chunk = images_per_launch(op, images, std::max(src_image, out_image));
  const T* src0 = a.src;
  T* out0 = a.out;
  const int64_t grid_pixels = int64_t{a.GY} * a.GX;
  GANTRY_CHECK(grid_pixels * chunk <= INT_MAX, op, ": too many pixels per launch");
  const int64_t wide_blocks = ceil_div(grid_pixels * chunk, 128) * ceil_div(a.J, 128) * phases;
  const bool wide = a.J > 64 && wide_blocks >= 2 * sm_count(device);
  with_math<T>(wide, [&](auto tag) {
    using Math = typename decltype(tag)::type;
    using Prob = GatherConvProblem<Math>;
    GANTRY_CHECK(ceil_div(a.J, Math::BN) <= 65535, op, ": ", a.J, " channels exceed the CUDA kernel's grid");
    for (int64_t n0 = 0; n0 < images; n0 += chunk) {
      const int64_t count = std::min(chunk, images - n0);
      GatherConvArgs<T> c = a;
      c.src = src0 + n0 * src_image;
      c.out = out0 + n0 * out_image;
      c.M = to_int(count * grid_pixels);
      const dim3 grid(static_cast<unsigned>(ceil_div(c.M, Math::BM)), static_cast<unsigned>(ceil_div(c.J, Math::BN)),
                      static_cast<unsigned>(phases));
      GANTRY_LAUNCH(grid, kConvThreads, 0, stream, implicit_gemm_kernel<Prob, Math>)(c);
      GANTRY_CUDA_LAUNCH_CHECK();
    }
  });
}

template <typename T>
GatherConvArgs<T> gather_args(const Conv2dParams& p, int64_t kw, int64_t taps) {
  GatherConvArgs<T> a{};
  a.KW = to_int(kw);
  a.taps = to_int(taps);
  a.stride_h = to_int(p.stride_h);
  a.stride_w = to_int(p.stride_w);
  a.pad_h = to_int(p.pad_h);
  a.pad_w = to_int(p.pad_w);
  a.dil_h = to_int(p.dil_h);
  a.dil_w = to_int(p.dil_w);
  return a;
}

void check_params(const char* op, const Conv2dParams& p) {
  for (int64_t v : {p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dil_h, p.dil_w})
    GANTRY_CHECK(v >= 0 && v <= INT_MAX / 4, op, ": stride/padding/dilation ", v, " too large for the CUDA kernel");
}

int64_t image_size(const Tensor& t) { return t.size(1) * t.size(2) * t.size(3); }

// The forward and the input gradient are one gather convolution from src (R channels) into dst (J channels).
// The input gradient reads the weight transposed and runs one phase per stride offset, each covering the
// ceil(h / stride) x ceil(w / stride) dst pixels whose taps land on the same weight positions.
template <typename T>
void gather_conv_typed(const char* op, Tensor& dst, const Tensor& src, const Tensor& w, const Tensor& bias,
                       const Conv2dParams& p, bool transposed) {
  if (dst.numel() == 0) return;
  check_32bit(op, w, "weight");
  check_params(op, p);
  const int device = dst.device().index;
  const cudaStream_t stream = current_stream(device);
  Workspace wt(sizeof(T) * w.numel(), device);
  arrange_weight<T>(wt.as<T>(), w, transposed, stream);
  GatherConvArgs<T> a = gather_args<T>(p, w.size(3), w.size(2) * w.size(3));
  a.src = static_cast<const T*>(src.raw_data());
  a.wt = wt.as<T>();
  a.bias = bias.defined() ? static_cast<const T*>(bias.raw_data()) : nullptr;
  a.out = static_cast<T*>(dst.raw_data());
  a.R = to_int(src.size(1));
  a.J = to_int(dst.size(1));
  a.SH = to_int(src.size(2));
  a.SW = to_int(src.size(3));
  a.OH = to_int(dst.size(2));
  a.OW = to_int(dst.size(3));
  a.GY = transposed ? to_int(ceil_div(dst.size(2), p.stride_h)) : a.OH;
  a.GX = transposed ? to_int(ceil_div(dst.size(3), p.stride_w)) : a.OW;
  a.phases_w = transposed ? to_int(p.stride_w) : 1;
  a.transposed = transposed;
  const int phases = transposed ? to_int(p.stride_h * p.stride_w) : 1;
  run_gather(a, dst.size(0), image_size(src), image_size(dst), phases, device, op, stream);
}

template <typename T>
void weight_grad_typed(Tensor& grad_w, const Tensor& x, const Tensor& grad_out, const Conv2dParams& p) {
  const char* op = "conv2d_weight_grad";
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3);
  const int64_t o = grad_w.size(0), kh = grad_w.size(2), kw = grad_w.size(3);
  const int64_t oh = grad_out.size(2), ow = grad_out.size(3);
  if (grad_w.numel() == 0) return;
  check_32bit(op, grad_w, "weight gradient");
  check_params(op, p);
  const int device = x.device().index;
  const cudaStream_t stream = current_stream(device);
  T* gw = static_cast<T*>(grad_w.raw_data());
  if (n == 0 || oh * ow == 0) {  // an empty sum
    GANTRY_CUDA_CHECK(cudaMemsetAsync(gw, 0, sizeof(T) * grad_w.numel(), stream));
    return;
  }
  WeightGradArgs<T> a{};
  a.C = to_int(c);
  a.H = to_int(h);
  a.W = to_int(wd);
  a.O = to_int(o);
  a.OH = to_int(oh);
  a.OW = to_int(ow);
  a.KH = to_int(kh);
  a.KW = to_int(kw);
  a.J = to_int(c * kh * kw);
  a.stride_h = to_int(p.stride_h);
  a.stride_w = to_int(p.stride_w);
  a.pad_h = to_int(p.pad_h);
  a.pad_w = to_int(p.pad_w);
  a.dil_h = to_int(p.dil_h);
  a.dil_w = to_int(p.dil_w);
  a.slice = grad_w.numel();
  const int64_t x_image = image_size(x), g_image = image_size(grad_out);
  const int64_t chunk = images_per_launch(op, n, std::max(x_image, g_image));
  const int64_t chunks = ceil_div(n, chunk);
  const T* x0 = static_cast<const T*>(x.raw_data());
  const T* g0 = static_cast<const T*>(grad_out.raw_data());
  with_math<T>(o > 64, [&](auto tag) {
    using Math = typename decltype(tag)::type;
    using Prob = WeightGradProblem<Math>;
    const int64_t tiles_x = ceil_div(a.J, Math::BM), tiles_y = ceil_div(a.O, Math::BN);
    GANTRY_CHECK(tiles_y <= 65535, op, ": ", o, " output channels exceed the CUDA kernel's grid");
    // Split the reduction until the grid fills the GPU about twice, keeping >= 256 terms per slice.
    const int64_t k_full = chunk * oh * ow;
    const int64_t want = ceil_div(2 * sm_count(device), tiles_x * tiles_y);
    const int64_t splits0 = std::clamp<int64_t>(want, 1, std::max<int64_t>(1, std::min<int64_t>(k_full / 256, 1024)));
    const int64_t k_chunk = ceil_div(ceil_div(k_full, splits0), Math::BK) * Math::BK;
    const int64_t splits = ceil_div(k_full, k_chunk);
    const int64_t slices = splits * chunks;
    // One slice writes straight into grad_w; several go through a workspace and a fixed-order sum.
    Workspace partial(slices > 1 ? sizeof(T) * a.slice * slices : 1, device);
    T* dst = slices > 1 ? partial.as<T>() : gw;
    a.k_chunk = to_int(k_chunk);
    for (int64_t ci = 0; ci < chunks; ++ci) {
      const int64_t n0 = ci * chunk, count = std::min(chunk, n - n0);
      WeightGradArgs<T> b = a;
      b.x = x0 + n0 * x_image;
      b.grad = g0 + n0 * g_image;
      b.out = dst + ci * splits * a.slice;
      b.K = to_int(count * oh * ow);
      const dim3 grid(static_cast<unsigned>(tiles_x), static_cast<unsigned>(tiles_y), static_cast<unsigned>(splits));
      GANTRY_LAUNCH(grid, kConvThreads, 0, stream, implicit_gemm_kernel<Prob, Math>)(b);
      GANTRY_CUDA_LAUNCH_CHECK();
    }
    if (slices > 1) {
      GANTRY_LAUNCH(grid_for(a.slice, 256), 256, 0, stream, sum_slices_kernel<T>)(gw, partial.as<T>(), to_int(a.slice),
                                                                        to_int(slices));
      GANTRY_CUDA_LAUNCH_CHECK();
    }
  });
}

void check_conv_tensors(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor& first = **tensors.begin();
  check_device(first.device(), op);
  for (const Tensor* t : tensors) {
    if (!t->defined()) continue;
    GANTRY_CHECK(t->device() == first.device() && t->dtype() == first.dtype() && t->is_contiguous(), op,
                 ": CUDA kernel expects contiguous ", dtype_name(first.dtype()), " tensors on ", first.device().str(),
                 ", got ", dtype_name(t->dtype()), " ", shape_str(t->shape()), " on ", t->device().str());
  }
}

void cuda_conv2d_forward(Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p) {
  check_conv_tensors("conv2d", {&out, &x, &w, &bias});
  DeviceGuard guard(x.device());
  dispatch_floating(x.dtype(), "conv2d", [&](auto tag) {
    gather_conv_typed<typename decltype(tag)::type>("conv2d", out, x, w, bias, p, false);
  });
}

void cuda_conv2d_input_grad(Tensor& grad_x, const Tensor& grad_out, const Tensor& w, const Conv2dParams& p) {
  check_conv_tensors("conv2d_input_grad", {&grad_x, &grad_out, &w});
  DeviceGuard guard(grad_x.device());
  dispatch_floating(grad_out.dtype(), "conv2d_input_grad", [&](auto tag) {
    gather_conv_typed<typename decltype(tag)::type>("conv2d_input_grad", grad_x, grad_out, w, Tensor(), p, true);
  });
}

void cuda_conv2d_weight_grad(Tensor& grad_w, const Tensor& x, const Tensor& grad_out, const Conv2dParams& p) {
  check_conv_tensors("conv2d_weight_grad", {&grad_w, &x, &grad_out});
  DeviceGuard guard(x.device());
  dispatch_floating(x.dtype(), "conv2d_weight_grad", [&](auto tag) {
    weight_grad_typed<typename decltype(tag)::type>(grad_w, x, grad_out, p);
  });
}

}  // namespace

GANTRY_REGISTER_KERNEL(conv2d_forward_kernel, CUDA, &cuda_conv2d_forward);
GANTRY_REGISTER_KERNEL(conv2d_input_grad_kernel, CUDA, &cuda_conv2d_input_grad);
GANTRY_REGISTER_KERNEL(conv2d_weight_grad_kernel, CUDA, &cuda_conv2d_weight_grad);

}  // namespace gantry::cuda
