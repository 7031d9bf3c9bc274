#pragma once
// CUDA matrix products: a tiled shared-memory kernel (exact f32, f64, i64) and a tensor-core path for
// f32 inputs (WMMA) in TF32 or BF16 with f32 accumulation. The tensor-core paths are opt-in: the
// process-wide precision comes from GANTRY_CUDA_MATMUL=exact|tf32|bf16 (default exact) and can be
// changed with set_matmul_precision. The raw-pointer entry points serve the profiler and tests.
#include <cuda_runtime.h>

#include <cstdint>

namespace gantry::cuda {

enum class MatmulPrecision : uint8_t { exact, tf32, bf16 };

MatmulPrecision matmul_precision();
void set_matmul_precision(MatmulPrecision p);
const char* matmul_precision_name(MatmulPrecision p);

// c[b] = alpha op(a[b]) op(b[b]) + beta c[b] for b in [0, batch), row-major stored matrices with
// leading dims lda/ldb/ldc (elements) and batch strides (elements; 0 broadcasts a or b).
// op(a) is m x k, op(b) is k x n. beta == 0 ignores c's old contents.
struct GemmProblem {
  int64_t m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false;
  int64_t lda = 0, ldb = 0, ldc = 0;
  int64_t batch = 1;
  int64_t batch_stride_a = 0, batch_stride_b = 0, batch_stride_c = 0;
  double alpha = 1, beta = 0;
};

// Exact tiled kernel in T's own arithmetic (float, double, int64_t).
template <typename T>
void gemm_tiled(const GemmProblem& p, const T* a, const T* b, T* c, cudaStream_t stream);

// Tensor-core kernel for f32 data: inputs rounded to TF32 or BF16, products accumulated in f32.
void gemm_tensor_core(const GemmProblem& p, const float* a, const float* b, float* c, MatmulPrecision precision,
                      cudaStream_t stream);

}  // namespace gantry::cuda
