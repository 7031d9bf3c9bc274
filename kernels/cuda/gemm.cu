// CUDA GEMM kernels and their registration in gemm_kernel / batched_gemm_kernel.
//  - gemm_tiled: 128x128 output tiles in k-steps of 8 for f32 (8x8 outputs per thread), 64x64 in
//    k-steps of 16 for f64/i64 (4x4 per thread), staged through shared memory; exact arithmetic in T.
//  - gemm_tensor_core: 64x64 tiles, 4 warps each owning 32x32 as 2x2 WMMA 16x16 fragments; inputs are
//    rounded to TF32 or BF16 while being staged into shared memory, accumulation is f32.
// Both load each operand tile with consecutive threads walking its contiguous dim (which depends on the
// transpose flag) so global loads coalesce, and zero-fill outside the matrix, so any m, n, k works.
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <mma.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "engine/dispatch/linalg_kernels.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/runtime.h"

namespace gantry::cuda {

namespace {
MatmulPrecision precision_from_env() {
  const char* v = std::getenv("GANTRY_CUDA_MATMUL");
  if (v == nullptr || std::strcmp(v, "exact") == 0) return MatmulPrecision::exact;
  if (std::strcmp(v, "tf32") == 0) return MatmulPrecision::tf32;
  if (std::strcmp(v, "bf16") == 0) return MatmulPrecision::bf16;
  GANTRY_FAIL("GANTRY_CUDA_MATMUL='", v, "': expected exact, tf32 or bf16");
}
MatmulPrecision& precision_setting() {
  static MatmulPrecision p = precision_from_env();
  return p;
}
}  // namespace

MatmulPrecision matmul_precision() { return precision_setting(); }
void set_matmul_precision(MatmulPrecision p) { precision_setting() = p; }
const char* matmul_precision_name(MatmulPrecision p) {
  switch (p) {
    case MatmulPrecision::exact: return "exact";
    case MatmulPrecision::tf32: return "tf32";
    case MatmulPrecision::bf16: return "bf16";
  }
  return "?";
}

namespace {

constexpr int kTileM = 64, kTileN = 64, kTileK = 16;
constexpr int kMaxGridZ = 65535;

template <typename T>
struct GemmArgs {
  const T* a;
  const T* b;
  T* c;
  int64_t m, n, k, lda, ldb, ldc, stride_a, stride_b, stride_c;
  int64_t batch_begin;
  bool trans_a, trans_b, beta_is_zero;
  T alpha, beta;  // f32 for the tensor-core kernel
};

// Element (i, kk) of op(a) and (kk, j) of op(b), zero outside the matrix.
template <typename T, typename Args>
__device__ __forceinline__ T load_a(const Args& g, const T* A, int64_t i, int64_t kk) {
  if (i >= g.m || kk >= g.k) return T(0);
  return g.trans_a ? A[kk * g.lda + i] : A[i * g.lda + kk];
}
template <typename T, typename Args>
__device__ __forceinline__ T load_b(const Args& g, const T* B, int64_t kk, int64_t j) {
  if (j >= g.n || kk >= g.k) return T(0);
  return g.trans_b ? B[j * g.ldb + kk] : B[kk * g.ldb + j];
}

// Position of the e-th element of a BM x BK (a) or BK x BN (b) tile in the order that walks the
// operand's stored contiguous dim, so consecutive threads load consecutive addresses.
template <int BM, int BK>
__device__ __forceinline__ void a_tile_coords(bool trans, int e, int& row, int& kk) {
  if (!trans) { kk = e % BK; row = e / BK; }  // rows of a are contiguous in k
  else { row = e % BM; kk = e / BM; }         // a^T: contiguous in m
}
template <int BK, int BN>
__device__ __forceinline__ void b_tile_coords(bool trans, int e, int& kk, int& col) {
  if (!trans) { col = e % BN; kk = e / BN; }  // rows of b are contiguous in n
  else { kk = e % BK; col = e / BK; }         // b^T: contiguous in k
}

template <typename T, typename Acc>
__device__ __forceinline__ void store_c(const GemmArgs<T>& g, T* C, int64_t row, int64_t col, Acc value) {
  if (row >= g.m || col >= g.n) return;
  T* dst = C + row * g.ldc + col;
  const T r = static_cast<T>(g.alpha * static_cast<T>(value));
  *dst = g.beta_is_zero ? r : r + g.beta * *dst;
}

// Tile shape of the exact kernel: BM x BN outputs per block, k-steps of BK, TM x TN outputs per
// thread at rows ty + (BM/TM) i and cols tx + (BN/TN) j (strided, so shared-memory reads broadcast).
template <int BM_, int BN_, int BK_, int TM_, int TN_>
struct TiledConfig {
  static constexpr int BM = BM_, BN = BN_, BK = BK_, TM = TM_, TN = TN_;
  static constexpr int kThreadsM = BM / TM, kThreadsN = BN / TN, kThreads = kThreadsM * kThreadsN;
  static_assert(BM * BK % kThreads == 0 && BK * BN % kThreads == 0, "tiles must split evenly over threads");
};
using TiledFloat = TiledConfig<128, 128, 8, 8, 8>;  // f32: 256 threads, 64 accumulators each
using TiledWide = TiledConfig<64, 64, 16, 4, 4>;    // f64/i64: 256 threads, 16 accumulators each
template <typename T>
using TiledConfigFor = std::conditional_t<std::is_same_v<T, float>, TiledFloat, TiledWide>;

template <typename T, typename Cfg>
__global__ void __launch_bounds__(Cfg::kThreads) gemm_tiled_kernel(GemmArgs<T> g) {
  constexpr int BM = Cfg::BM, BN = Cfg::BN, BK = Cfg::BK, TM = Cfg::TM, TN = Cfg::TN;
  __shared__ T As[BK][BM + 1];
  __shared__ T Bs[BK][BN + 1];
  const int64_t batch = g.batch_begin + blockIdx.z;
  const T* A = g.a + batch * g.stride_a;
  const T* B = g.b + batch * g.stride_b;
  T* C = g.c + batch * g.stride_c;
  const int64_t row0 = static_cast<int64_t>(blockIdx.y) * BM, col0 = static_cast<int64_t>(blockIdx.x) * BN;
  const int tid = threadIdx.x, tx = tid % Cfg::kThreadsN, ty = tid / Cfg::kThreadsN;

  T acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = T(0);

  for (int64_t k0 = 0; k0 < g.k; k0 += BK) {
#pragma unroll
    for (int r = 0; r < BM * BK / Cfg::kThreads; ++r) {
      int row, kk;
      a_tile_coords<BM, BK>(g.trans_a, tid + Cfg::kThreads * r, row, kk);
      As[kk][row] = load_a<T>(g, A, row0 + row, k0 + kk);
    }
#pragma unroll
    for (int r = 0; r < BK * BN / Cfg::kThreads; ++r) {
      int kk, col;
      b_tile_coords<BK, BN>(g.trans_b, tid + Cfg::kThreads * r, kk, col);
      Bs[kk][col] = load_b<T>(g, B, k0 + kk, col0 + col);
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      T av[TM], bv[TN];
#pragma unroll
      for (int i = 0; i < TM; ++i) av[i] = As[kk][ty + Cfg::kThreadsM * i];
#pragma unroll
      for (int j = 0; j < TN; ++j) bv[j] = Bs[kk][tx + Cfg::kThreadsN * j];
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] += av[i] * bv[j];
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j)
      store_c(g, C, row0 + ty + Cfg::kThreadsM * i, col0 + tx + Cfg::kThreadsN * j, acc[i][j]);
}

// ---- tensor cores ----
namespace wmma = nvcuda::wmma;

template <MatmulPrecision P> struct TensorCoreTraits;
template <> struct TensorCoreTraits<MatmulPrecision::tf32> {
  using Stored = float;                     // shared-memory element (already rounded to TF32)
  using Fragment = wmma::precision::tf32;   // WMMA element type
  static constexpr int kK = 8;              // WMMA k per step
  static constexpr int kPad = 4;            // keeps 32-byte fragment alignment, spreads banks
  __device__ static float convert(float x) { return wmma::__float_to_tf32(x); }
};
template <> struct TensorCoreTraits<MatmulPrecision::bf16> {
  using Stored = __nv_bfloat16;
  using Fragment = __nv_bfloat16;
  static constexpr int kK = 16;
  static constexpr int kPad = 8;
  __device__ static __nv_bfloat16 convert(float x) { return __float2bfloat16(x); }
};

constexpr int kTensorCoreThreads = 128;  // 4 warps in a 2x2 grid, 32x32 outputs each

template <MatmulPrecision P>
__global__ void __launch_bounds__(kTensorCoreThreads) gemm_tensor_core_kernel(GemmArgs<float> g) {
  using Traits = TensorCoreTraits<P>;
  using S = typename Traits::Stored;
  constexpr int kLdA = kTileK + Traits::kPad, kLdB = kTileN + Traits::kPad, kLdC = kTileN + 4;
  __shared__ __align__(32) S As[kTileM][kLdA];  // op(a) tile, (m, k) row-major
  __shared__ __align__(32) S Bs[kTileK][kLdB];  // op(b) tile, (k, n) row-major
  __shared__ __align__(32) float Cs[kTileM][kLdC];

  const int64_t batch = g.batch_begin + blockIdx.z;
  const float* A = g.a + batch * g.stride_a;
  const float* B = g.b + batch * g.stride_b;
  float* C = g.c + batch * g.stride_c;
  const int64_t row0 = static_cast<int64_t>(blockIdx.y) * kTileM, col0 = static_cast<int64_t>(blockIdx.x) * kTileN;
  const int tid = threadIdx.x, warp = tid / 32, warp_m = warp / 2, warp_n = warp % 2;

  wmma::fragment<wmma::accumulator, 16, 16, Traits::kK, float> acc[2][2];
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.0f);

  for (int64_t k0 = 0; k0 < g.k; k0 += kTileK) {
#pragma unroll
    for (int r = 0; r < kTileM * kTileK / kTensorCoreThreads; ++r) {
      const int e = tid + kTensorCoreThreads * r;
      int row, kk, col;
      a_tile_coords<kTileM, kTileK>(g.trans_a, e, row, kk);
      As[row][kk] = Traits::convert(load_a<float>(g, A, row0 + row, k0 + kk));
      b_tile_coords<kTileK, kTileN>(g.trans_b, e, kk, col);
      Bs[kk][col] = Traits::convert(load_b<float>(g, B, k0 + kk, col0 + col));
    }
    __syncthreads();
#pragma unroll
    for (int ks = 0; ks < kTileK; ks += Traits::kK) {
      wmma::fragment<wmma::matrix_a, 16, 16, Traits::kK, typename Traits::Fragment, wmma::row_major> fa[2];
      wmma::fragment<wmma::matrix_b, 16, 16, Traits::kK, typename Traits::Fragment, wmma::row_major> fb[2];
#pragma unroll
      for (int i = 0; i < 2; ++i) wmma::load_matrix_sync(fa[i], &As[warp_m * 32 + i * 16][ks], kLdA);
#pragma unroll
      for (int j = 0; j < 2; ++j) wmma::load_matrix_sync(fb[j], &Bs[ks][warp_n * 32 + j * 16], kLdB);
#pragma unroll
      for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j)
      wmma::store_matrix_sync(&Cs[warp_m * 32 + i * 16][warp_n * 32 + j * 16], acc[i][j], kLdC, wmma::mem_row_major);
  __syncthreads();
  for (int e = tid; e < kTileM * kTileN; e += kTensorCoreThreads) {
    const int row = e / kTileN, col = e % kTileN;  // consecutive threads along a row of c
    store_c(g, C, row0 + row, col0 + col, Cs[row][col]);
  }
}

template <typename T>
GemmArgs<T> make_args(const GemmProblem& p, const T* a, const T* b, T* c) {
  GANTRY_CHECK(p.m >= 0 && p.n >= 0 && p.k >= 0 && p.batch >= 0, "gemm: negative size (m ", p.m, ", n ", p.n,
               ", k ", p.k, ", batch ", p.batch, ")");
  GANTRY_CHECK((p.m + kTileM - 1) / kTileM <= 65535, "gemm: m = ", p.m, " exceeds the CUDA kernel's limit of ",
               int64_t{65535} * kTileM, " rows");
  GemmArgs<T> g{};
  g.a = a;
  g.b = b;
  g.c = c;
  g.m = p.m; g.n = p.n; g.k = p.k;
  g.lda = p.lda; g.ldb = p.ldb; g.ldc = p.ldc;
  g.stride_a = p.batch_stride_a; g.stride_b = p.batch_stride_b; g.stride_c = p.batch_stride_c;
  g.trans_a = p.trans_a;
  g.trans_b = p.trans_b;
  g.beta_is_zero = p.beta == 0;
  g.alpha = static_cast<T>(p.alpha);
  g.beta = static_cast<T>(p.beta);
  return g;
}

// Launches `kernel` over the output tiles, in chunks of at most 65535 batch entries.
template <int BM, int BN, typename T, typename Kernel>
void launch_over_batches(GemmArgs<T> g, int64_t batch, int threads, Kernel kernel, cudaStream_t stream) {
  if (g.m == 0 || g.n == 0 || batch == 0) return;
  const dim3 tiles(static_cast<unsigned>((g.n + BN - 1) / BN), static_cast<unsigned>((g.m + BM - 1) / BM));
  for (int64_t begin = 0; begin < batch; begin += kMaxGridZ) {
    g.batch_begin = begin;
    const unsigned chunk = static_cast<unsigned>(std::min<int64_t>(kMaxGridZ, batch - begin));
    GANTRY_LAUNCH(dim3(tiles.x, tiles.y, chunk), threads, 0, stream, kernel)(g);
    GANTRY_CUDA_LAUNCH_CHECK();
  }
}

}  // namespace

template <typename T>
void gemm_tiled(const GemmProblem& p, const T* a, const T* b, T* c, cudaStream_t stream) {
  using Cfg = TiledConfigFor<T>;
  launch_over_batches<Cfg::BM, Cfg::BN>(make_args(p, a, b, c), p.batch, Cfg::kThreads, gemm_tiled_kernel<T, Cfg>,
                                        stream);
}
template void gemm_tiled<float>(const GemmProblem&, const float*, const float*, float*, cudaStream_t);
template void gemm_tiled<double>(const GemmProblem&, const double*, const double*, double*, cudaStream_t);
template void gemm_tiled<int64_t>(const GemmProblem&, const int64_t*, const int64_t*, int64_t*, cudaStream_t);

void gemm_tensor_core(const GemmProblem& p, const float* a, const float* b, float* c, MatmulPrecision precision,
                      cudaStream_t stream) {
  const GemmArgs<float> g = make_args(p, a, b, c);
  switch (precision) {
    case MatmulPrecision::tf32:
      launch_over_batches<kTileM, kTileN>(g, p.batch, kTensorCoreThreads, gemm_tensor_core_kernel<MatmulPrecision::tf32>, stream);
      return;
    case MatmulPrecision::bf16:
      launch_over_batches<kTileM, kTileN>(g, p.batch, kTensorCoreThreads, gemm_tensor_core_kernel<MatmulPrecision::bf16>, stream);
      return;
    case MatmulPrecision::exact: gemm_tiled<float>(p, a, b, c, stream); return;
  }
}

// ---- the engine's gemm_kernel / batched_gemm_kernel ----
namespace {

// Leading dim of a stored row-major matrix given as dims (rows_dim, rows_dim + 1) of `t`.
int64_t leading_dim(const Tensor& t, int rows_dim, const char* op, const char* name) {
  const int64_t rows = t.size(rows_dim), cols = t.size(rows_dim + 1);
  GANTRY_CHECK(cols <= 1 || t.strides()[rows_dim + 1] == 1, op, ": ", name, " must have unit stride in its last dim, "
               "got shape ", shape_str(t.shape()), " strides ", shape_str(t.strides()));
  const int64_t ld = t.strides()[rows_dim];
  GANTRY_CHECK(rows <= 1 || ld >= cols, op, ": ", name, " has leading stride ", ld, " < ", cols, " columns");
  return rows <= 1 ? std::max<int64_t>(cols, 1) : ld;
}

void run_gemm(Tensor& c, const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, double alpha, double beta,
              bool batched) {
  const char* op = batched ? "batched_gemm" : "gemm";
  check_device(c.device(), op);
  GANTRY_CHECK(a.device() == c.device() && b.device() == c.device(), op, ": operands on ", a.device().str(), ", ",
               b.device().str(), " and ", c.device().str(), "; move them to one device");
  GANTRY_CHECK(a.dtype() == c.dtype() && b.dtype() == c.dtype(), op, ": dtypes ", dtype_name(a.dtype()), ", ",
               dtype_name(b.dtype()), ", ", dtype_name(c.dtype()), " differ");
  const int r = batched ? 1 : 0;  // first matrix dim
  const int64_t dims = batched ? 3 : 2;
  GANTRY_CHECK(a.dim() == dims && b.dim() == dims && c.dim() == dims, op, ": expected ", dims, "-D operands, got ",
               shape_str(a.shape()), ", ", shape_str(b.shape()), ", ", shape_str(c.shape()));
  GemmProblem p;
  p.m = c.size(r);
  p.n = c.size(r + 1);
  p.k = trans_a ? a.size(r) : a.size(r + 1);
  const int64_t a_m = trans_a ? a.size(r + 1) : a.size(r);
  const int64_t b_k = trans_b ? b.size(r + 1) : b.size(r), b_n = trans_b ? b.size(r) : b.size(r + 1);
  GANTRY_CHECK(a_m == p.m && b_k == p.k && b_n == p.n, op, ": shapes ", shape_str(a.shape()),
               trans_a ? "^T" : "", " x ", shape_str(b.shape()), trans_b ? "^T" : "", " do not give ",
               shape_str(c.shape()));
  p.trans_a = trans_a;
  p.trans_b = trans_b;
  p.lda = leading_dim(a, r, op, "a");
  p.ldb = leading_dim(b, r, op, "b");
  p.ldc = leading_dim(c, r, op, "c");
  p.alpha = alpha;
  p.beta = beta;
  if (batched) {
    p.batch = c.size(0);
    GANTRY_CHECK(a.size(0) == p.batch && b.size(0) == p.batch, op, ": batch sizes of ", shape_str(a.shape()), ", ",
                 shape_str(b.shape()), ", ", shape_str(c.shape()), " differ");
    p.batch_stride_a = a.size(0) == 1 ? 0 : a.strides()[0];
    p.batch_stride_b = b.size(0) == 1 ? 0 : b.strides()[0];
    p.batch_stride_c = c.strides()[0];
  }
  // k == 0 needs no special case: the kernels' k loop is empty and they store beta c.
  DeviceGuard guard(c.device());
  const cudaStream_t stream = current_stream(c.device().index);
  dispatch_all(c.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, uint8_t>) {
      GANTRY_FAIL(op, ": uint8 matrices are not supported");
    } else {
      const T* pa = static_cast<const T*>(a.raw_data());
      const T* pb = static_cast<const T*>(b.raw_data());
      T* pc = static_cast<T*>(c.raw_data());
      if constexpr (std::is_same_v<T, float>) {
        if (matmul_precision() != MatmulPrecision::exact) {
          gemm_tensor_core(p, pa, pb, pc, matmul_precision(), stream);
          return;
        }
      }
      gemm_tiled<T>(p, pa, pb, pc, stream);
    }
  });
}

void cuda_gemm(Tensor& c, const Tensor& a, const Tensor& b, bool ta, bool tb, double alpha, double beta) {
  run_gemm(c, a, b, ta, tb, alpha, beta, false);
}
void cuda_batched_gemm(Tensor& c, const Tensor& a, const Tensor& b, bool ta, bool tb, double alpha, double beta) {
  run_gemm(c, a, b, ta, tb, alpha, beta, true);
}

}  // namespace

GANTRY_REGISTER_KERNEL(gemm_kernel, CUDA, &cuda_gemm);
GANTRY_REGISTER_KERNEL(batched_gemm_kernel, CUDA, &cuda_batched_gemm);

}  // namespace gantry::cuda
