// CUDA fused dot-product attention forward (attention_kernel), flash-attention style: a block owns BQ
// query rows and BV value columns of one batch entry and streams the keys and values through shared
// memory in tiles of BK, keeping a running row maximum, a running sum of exponentials and the
// rescaled output in registers (online softmax). No Lq x Lk score matrix ever reaches global memory.
//
// Per key tile: S = scale q k^T (q and k staged BD features at a time, 4x4 scores per thread), the
// tile's row maxima and exponentials (BK / 16 adjacent threads per row, combined with warp shuffles),
// then o = o * exp(m_old - m_new) + p v (4x4 outputs per thread). A block covers BV = BK value
// columns, so large Dv runs as several column blocks that each recompute the scores: shared memory and
// registers stay bounded for any D and Dv. Exact arithmetic in T (float, or double for the gradient
// checks); no tensor cores.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <initializer_list>

#include "engine/dispatch/attention_kernels.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/runtime.h"

namespace gantry::cuda {
namespace {

template <typename T> struct AttentionTile;
template <> struct AttentionTile<float> {
  static constexpr int BQ = 64, BK = 64, BD = 16;  // 256 threads, ~43 KB shared memory
};
template <> struct AttentionTile<double> {
  static constexpr int BQ = 32, BK = 32, BD = 16;  // 64 threads, ~27 KB shared memory
};

template <typename T>
struct AttentionConfig {
  static constexpr int BQ = AttentionTile<T>::BQ, BK = AttentionTile<T>::BK, BD = AttentionTile<T>::BD;
  static constexpr int BV = BK;                          // value columns per block
  static constexpr int kRowThreads = BQ / 4, kColThreads = BK / 4;
  static constexpr int kThreads = kRowThreads * kColThreads;
  static constexpr int kPerRow = kThreads / BQ;          // softmax threads per query row (adjacent lanes)
  static_assert(kPerRow >= 1 && 32 % kPerRow == 0, "a row's softmax threads sit in one warp");
};

__device__ __forceinline__ float exp_of(float x) { return expf(x); }
__device__ __forceinline__ double exp_of(double x) { return exp(x); }

template <typename T>
__global__ void __launch_bounds__(AttentionConfig<T>::kThreads)
    attention_forward_kernel(T* __restrict__ out, const T* __restrict__ q, const T* __restrict__ k,
                             const T* __restrict__ v, int lq, int lk, int d, int dv, T scale, int64_t batch_begin) {
  using Cfg = AttentionConfig<T>;
  constexpr int BQ = Cfg::BQ, BK = Cfg::BK, BD = Cfg::BD, BV = Cfg::BV, RT = Cfg::kRowThreads,
                CT = Cfg::kColThreads, kThreads = Cfg::kThreads, kPerRow = Cfg::kPerRow;
  __shared__ T qs[BD][BQ + 1];  // feature-major, padded: conflict-free stores of row-contiguous loads
  __shared__ T ks[BD][BK + 1];
  __shared__ T ss[BQ][BK + 1];  // scores, then probabilities
  __shared__ T vs[BK][BV + 4];
  __shared__ T row_max[BQ], row_sum[BQ], row_scale[BQ];

  const int64_t b = batch_begin + static_cast<int64_t>(blockIdx.z);
  const T* qb = q + b * lq * d;
  const T* kb = k + b * lk * d;
  const T* vb = v + b * lk * dv;
  T* ob = out + b * lq * dv;
  const int q0 = static_cast<int>(blockIdx.x) * BQ, v0 = static_cast<int>(blockIdx.y) * BV;
  const int tid = static_cast<int>(threadIdx.x), tx = tid % CT, ty = tid / CT;

  if (tid < BQ) {
    row_max[tid] = -INFINITY;
    row_sum[tid] = T(0);
  }
  T o[4][4];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) o[i][j] = T(0);

  for (int k0 = 0; k0 < lk; k0 += BK) {
    // ---- scores of this key tile ----
    T s[4][4];
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) s[i][j] = T(0);
    for (int d0 = 0; d0 < d; d0 += BD) {
      for (int e = tid; e < BQ * BD; e += kThreads) {
        const int f = e % BD, r = e / BD, qi = q0 + r, df = d0 + f;
        qs[f][r] = (qi < lq && df < d) ? qb[qi * d + df] : T(0);
      }
      for (int e = tid; e < BK * BD; e += kThreads) {
        const int f = e % BD, r = e / BD, ki = k0 + r, df = d0 + f;
        ks[f][r] = (ki < lk && df < d) ? kb[ki * d + df] : T(0);
      }
      __syncthreads();
#pragma unroll
      for (int f = 0; f < BD; ++f) {
        T a[4], c[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) a[i] = qs[f][ty + RT * i];
#pragma unroll
        for (int j = 0; j < 4; ++j) c[j] = ks[f][tx + CT * j];
#pragma unroll
        for (int i = 0; i < 4; ++i)
#pragma unroll
          for (int j = 0; j < 4; ++j) s[i][j] += a[i] * c[j];
      }
      __syncthreads();
    }
    // Scores to shared memory (keys past the end score -inf, i.e. weight 0), and the value tile.
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const int c = tx + CT * j;
        ss[ty + RT * i][c] = (k0 + c < lk) ? s[i][j] * scale : T(-INFINITY);
      }
    for (int e = tid; e < BK * BV; e += kThreads) {
      const int c = e % BV, r = e / BV, ki = k0 + r, col = v0 + c;
      vs[r][c] = (ki < lk && col < dv) ? vb[ki * dv + col] : T(0);
    }
    __syncthreads();
    // ---- online softmax: kPerRow adjacent threads per row ----
    {
      const int r = tid / kPerRow, part = tid % kPerRow;
      const T m_old = row_max[r], l_old = row_sum[r];
      T m = T(-INFINITY);
      for (int c = part; c < BK; c += kPerRow) m = ss[r][c] > m ? ss[r][c] : m;
#pragma unroll
      for (int off = kPerRow / 2; off > 0; off /= 2) {
        const T other = __shfl_xor_sync(0xffffffffu, m, off);
        m = other > m ? other : m;
      }
      const T m_new = m > m_old ? m : m_old;
      const T m_use = m_new == T(-INFINITY) ? T(0) : m_new;  // all -inf so far: keep exp finite
      T sum = T(0);
      for (int c = part; c < BK; c += kPerRow) {
        const T p = exp_of(ss[r][c] - m_use);
        ss[r][c] = p;
        sum += p;
      }
#pragma unroll
      for (int off = kPerRow / 2; off > 0; off /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, off);
      const T alpha = exp_of(m_old - m_use);  // 0 on the first tile (m_old = -inf)
      __syncwarp();                           // every lane of the row has read row_max/row_sum
      if (part == 0) {
        row_max[r] = m_new;
        row_sum[r] = l_old * alpha + sum;
        row_scale[r] = alpha;
      }
    }
    __syncthreads();
    // ---- o = o * alpha + p v ----
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const T alpha = row_scale[ty + RT * i];
#pragma unroll
      for (int j = 0; j < 4; ++j) o[i][j] *= alpha;
    }
#pragma unroll 4
    for (int c = 0; c < BK; ++c) {
      T p[4], w[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) p[i] = ss[ty + RT * i][c];
#pragma unroll
      for (int j = 0; j < 4; ++j) w[j] = vs[c][tx + CT * j];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) o[i][j] += p[i] * w[j];
    }
    __syncthreads();  // the next tile overwrites qs/ks/ss/vs
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int r = ty + RT * i, qi = q0 + r;
    if (qi >= lq) continue;
    const T inv = T(1) / row_sum[r];
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int col = v0 + tx + CT * j;
      if (col < dv) ob[qi * dv + col] = o[i][j] * inv;
    }
  }
}

void cuda_attention(Tensor& out, const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  const char* op = "attention";
  check_device(q.device(), op);
  for (const Tensor* t : std::initializer_list<const Tensor*>{&out, &k, &v})
    GANTRY_CHECK(t->device() == q.device() && t->dtype() == q.dtype() && t->is_contiguous() && t->dim() == 3, op,
                 ": CUDA kernel expects contiguous 3-D ", dtype_name(q.dtype()), " tensors on ", q.device().str());
  GANTRY_CHECK(q.is_contiguous() && q.dim() == 3, op, ": CUDA kernel expects a contiguous 3-D q");
  const int64_t batch = q.size(0), lq = q.size(1), d = q.size(2), lk = k.size(1), dv = v.size(2);
  if (batch == 0 || lq == 0 || dv == 0) return;
  GANTRY_CHECK(lk >= 1, op, ": no keys");
  GANTRY_CHECK(lq * d <= INT_MAX && lk * d <= INT_MAX && lk * dv <= INT_MAX && lq * dv <= INT_MAX, op,
               ": one batch entry of q ", shape_str(q.shape()), ", k ", shape_str(k.shape()), ", v ",
               shape_str(v.shape()), " exceeds the CUDA kernel's 32-bit indexing");
  DeviceGuard guard(q.device());
  const cudaStream_t stream = current_stream(q.device().index);
  dispatch_floating(q.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using Cfg = AttentionConfig<T>;
    const int64_t col_blocks = (dv + Cfg::BV - 1) / Cfg::BV;
    GANTRY_CHECK(col_blocks <= 65535, op, ": Dv = ", dv, " exceeds the CUDA kernel's grid");
    const unsigned row_blocks = static_cast<unsigned>((lq + Cfg::BQ - 1) / Cfg::BQ);
    for (int64_t b0 = 0; b0 < batch; b0 += 65535) {
      const unsigned chunk = static_cast<unsigned>(std::min<int64_t>(65535, batch - b0));
      GANTRY_LAUNCH(dim3(row_blocks, static_cast<unsigned>(col_blocks), chunk), Cfg::kThreads, 0,
                                    stream, attention_forward_kernel<T>)(
          static_cast<T*>(out.raw_data()), static_cast<const T*>(q.raw_data()), static_cast<const T*>(k.raw_data()),
          static_cast<const T*>(v.raw_data()), static_cast<int>(lq), static_cast<int>(lk), static_cast<int>(d),
          static_cast<int>(dv), static_cast<T>(scale), b0);
      GANTRY_CUDA_LAUNCH_CHECK();
    }
  });
}

}  // namespace

GANTRY_REGISTER_KERNEL(attention_kernel, CUDA, &cuda_attention);

}  // namespace gantry::cuda
