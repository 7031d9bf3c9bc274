// CPU dot-product attention, one block of query rows at a time: scores = scale * q_blk k^T (CBLAS),
// a row softmax (maximum subtracted, sum of exponentials in double like the softmax kernel), then
// out_blk = p v (CBLAS). Only a [rows, Lk] block of scores exists at any time.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/dispatch/attention_kernels.h"

namespace gantry::cpu {
namespace {

// Scores kept per block: a few hundred KB, so the block stays in cache between the two products.
constexpr int64_t kBlockScores = int64_t{1} << 16;

void blas_gemm(bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b,
               int64_t ldb, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, 0.0f, c,
              ldc);
}

void blas_gemm(bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda, const double* b,
               int64_t ldb, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, 0.0, c, ldc);
}

// Normalises each row of p [rows, n] into its softmax in place.
template <typename T>
void softmax_rows(T* p, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) {
    T* row = p + r * n;
    T max_value = -std::numeric_limits<T>::infinity();
    for (int64_t j = 0; j < n; ++j) max_value = std::max(max_value, row[j]);
    if (std::isnan(max_value) || std::isinf(max_value)) max_value = 0;  // let NaN/inf through as softmax does
    double total = 0;
    for (int64_t j = 0; j < n; ++j) {
      row[j] = std::exp(row[j] - max_value);
      total += static_cast<double>(row[j]);
    }
    const T inv_total = static_cast<T>(1.0 / total);
    for (int64_t j = 0; j < n; ++j) row[j] *= inv_total;
  }
}

template <typename T>
void attention_typed(Tensor& out, const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  const int64_t batch = q.shape()[0], lq = q.shape()[1], d = q.shape()[2];
  const int64_t lk = k.shape()[1], dv = v.shape()[2];
  if (batch == 0 || lq == 0 || dv == 0) return;
  const int64_t block = std::clamp<int64_t>(kBlockScores / lk, 1, lq);
  std::vector<T> scores(static_cast<size_t>(block * lk));
  const T* qp = q.data_ptr<T>();
  const T* kp = k.data_ptr<T>();
  const T* vp = v.data_ptr<T>();
  T* op = out.data_ptr<T>();
  for (int64_t b = 0; b < batch; ++b) {
    const T* kb = kp + b * lk * d;
    const T* vb = vp + b * lk * dv;
    for (int64_t r0 = 0; r0 < lq; r0 += block) {
      const int64_t rows = std::min(block, lq - r0);
      if (d == 0) {
        std::fill(scores.begin(), scores.begin() + rows * lk, T(0));  // empty dot products are 0
      } else {
        blas_gemm(true, rows, lk, d, static_cast<T>(scale), qp + (b * lq + r0) * d, d, kb, d, scores.data(), lk);
      }
      softmax_rows(scores.data(), rows, lk);
      blas_gemm(false, rows, dv, lk, T(1), scores.data(), lk, vb, dv, op + (b * lq + r0) * dv, dv);
    }
  }
}

void attention(Tensor& out, const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  dispatch_floating(q.dtype(), "attention",
                    [&](auto tag) { attention_typed<typename decltype(tag)::type>(out, q, k, v, scale); });
}

}  // namespace

GANTRY_REGISTER_KERNEL(attention_kernel, CPU, &attention);

}  // namespace gantry::cpu
