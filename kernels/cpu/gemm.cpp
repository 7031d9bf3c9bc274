// CPU matrix products: float32/float64 through CBLAS (OpenBLAS), int64 through plain loops.
#include <cblas.h>

#include <algorithm>

#include "engine/dispatch/linalg_kernels.h"

namespace gantry::cpu {
namespace {

// One stored row-major matrix: its element pointer, size and leading dimension.
template <typename T>
struct StoredMatrix {
  T* data;
  int64_t rows, cols, ld;
};

// The last two dims of `t` starting at element `base` (a pointer into t's storage). A matrix with one
// row may carry any row stride; BLAS still wants ld >= max(1, cols).
template <typename T>
StoredMatrix<T> stored_matrix(const Tensor& t, T* base) {
  const int64_t nd = t.dim();
  const int64_t rows = t.shape()[nd - 2], cols = t.shape()[nd - 1];
  const int64_t ld = rows <= 1 ? std::max<int64_t>(1, cols) : t.strides()[nd - 2];
  return {base, rows, cols, ld};
}

void blas_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const float* a, int64_t lda,
               const float* b, int64_t ldb, double beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k,
              static_cast<float>(alpha), a, lda, b, ldb, static_cast<float>(beta), c, ldc);
}

void blas_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
               const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, a,
              lda, b, ldb, beta, c, ldc);
}

// Integer products have no BLAS; a plain triple loop (i-p-j order keeps the inner loop on rows).
void blas_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const int64_t* a, int64_t lda,
               const int64_t* b, int64_t ldb, double beta, int64_t* c, int64_t ldc) {
  const auto A = [&](int64_t i, int64_t p) { return ta ? a[p * lda + i] : a[i * lda + p]; };
  const auto B = [&](int64_t p, int64_t j) { return tb ? b[j * ldb + p] : b[p * ldb + j]; };
  const int64_t ialpha = static_cast<int64_t>(alpha), ibeta = static_cast<int64_t>(beta);
  for (int64_t i = 0; i < m; ++i) {
    int64_t* crow = c + i * ldc;
    for (int64_t j = 0; j < n; ++j) crow[j] = ibeta == 0 ? 0 : ibeta * crow[j];
    for (int64_t p = 0; p < k; ++p) {
      const int64_t aip = ialpha * A(i, p);
      for (int64_t j = 0; j < n; ++j) crow[j] += aip * B(p, j);
    }
  }
}

template <typename T>
void gemm_one(const StoredMatrix<T>& c, const StoredMatrix<const T>& a, const StoredMatrix<const T>& b, bool ta,
              bool tb, double alpha, double beta) {
  const int64_t m = c.rows, n = c.cols, k = ta ? a.rows : a.cols;
  if (m == 0 || n == 0) return;
  blas_gemm(ta, tb, m, n, k, alpha, a.data, a.ld, b.data, b.ld, beta, c.data, c.ld);
}

void gemm(Tensor& c, const Tensor& a, const Tensor& b, bool ta, bool tb, double alpha, double beta) {
  dispatch_all(c.dtype(), "gemm", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, uint8_t>) {
      GANTRY_FAIL("gemm: uint8 matrices are not supported");
    } else {
      gemm_one<T>(stored_matrix<T>(c, c.data_ptr<T>()), stored_matrix<const T>(a, a.data_ptr<T>()),
                  stored_matrix<const T>(b, b.data_ptr<T>()), ta, tb, alpha, beta);
    }
  });
}

void batched_gemm(Tensor& c, const Tensor& a, const Tensor& b, bool ta, bool tb, double alpha, double beta) {
  dispatch_all(c.dtype(), "batched_gemm", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, uint8_t>) {
      GANTRY_FAIL("batched_gemm: uint8 matrices are not supported");
    } else {
      const int64_t batch = c.shape()[0];
      for (int64_t i = 0; i < batch; ++i)
        gemm_one<T>(stored_matrix<T>(c, c.data_ptr<T>() + i * c.strides()[0]),
                    stored_matrix<const T>(a, a.data_ptr<T>() + i * a.strides()[0]),
                    stored_matrix<const T>(b, b.data_ptr<T>() + i * b.strides()[0]), ta, tb, alpha, beta);
    }
  });
}

}  // namespace

GANTRY_REGISTER_KERNEL(gemm_kernel, CPU, &gemm);
GANTRY_REGISTER_KERNEL(batched_gemm_kernel, CPU, &batched_gemm);

}  // namespace gantry::cpu
