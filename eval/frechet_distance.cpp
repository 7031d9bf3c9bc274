#include "eval/frechet_distance.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/core/error.h"

// LAPACK's symmetric divide-and-conquer eigensolver (Fortran ABI; Debian's OpenBLAS and liblapack
// both export it). The trailing arguments are the hidden lengths of the two character arguments.
extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
                        double* work, const int* lwork, int* iwork, const int* liwork, int* info, size_t jobz_len,
                        size_t uplo_len);

namespace gantry::eval {
namespace {

std::vector<double> host_values(const Tensor& t, const char* what) {
  const Tensor c = t.to(kCPU).to(DType::f64).contiguous();
  const double* p = c.data_ptr<double>();
  std::vector<double> v(p, p + c.numel());
  for (double x : v) GANTRY_CHECK(std::isfinite(x), "Fréchet distance: ", what, " holds a non-finite value");
  return v;
}

struct TraceResult {
  double trace_sqrt = 0;
  double min_eig_sigma1 = 0;
  double min_eig_product = 0;
};

// tr sqrt(S1 S2) through R = S1^(1/2) and the eigenvalues of R S2 R.
TraceResult trace_sqrt_product(const std::vector<double>& s1, const std::vector<double>& s2, int64_t n) {
  TraceResult r;
  std::vector<double> vectors;
  const std::vector<double> l1 = symmetric_eigenvalues(s1, n, &vectors);
  r.min_eig_sigma1 = std::min(0.0, l1.front());
  // B = V diag(sqrt(max(l, 0))), so R = B V^T and R S2 R = V (B^T S2 B) V^T: the eigenvalues wanted are
  // those of B^T S2 B, which saves forming R.
  const auto nn = static_cast<size_t>(n);
  std::vector<double> b(vectors);
  for (size_t i = 0; i < nn; ++i)
    for (size_t k = 0; k < nn; ++k) b[i * nn + k] *= std::sqrt(std::max(l1[k], 0.0));
  const auto ni = static_cast<blasint>(n);
  std::vector<double> tmp(nn * nn), product(nn * nn);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ni, ni, ni, 1.0, s2.data(), ni, b.data(), ni, 0.0, tmp.data(),
              ni);
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ni, ni, ni, 1.0, b.data(), ni, tmp.data(), ni, 0.0,
              product.data(), ni);
  for (size_t i = 0; i < nn; ++i)  // symmetrise away the products' rounding
    for (size_t j = i + 1; j < nn; ++j) {
      const double m = 0.5 * (product[i * nn + j] + product[j * nn + i]);
      product[i * nn + j] = product[j * nn + i] = m;
    }
  const std::vector<double> l = symmetric_eigenvalues(std::move(product), n);
  r.min_eig_product = std::min(0.0, l.front());
  for (double v : l) r.trace_sqrt += std::sqrt(std::max(v, 0.0));
  return r;
}

}  // namespace

std::vector<double> symmetric_eigenvalues(std::vector<double> matrix, int64_t n, std::vector<double>* eigenvectors) {
  GANTRY_CHECK(n > 0 && static_cast<int64_t>(matrix.size()) == n * n, "symmetric_eigenvalues: expected ", n * n,
               " values for a ", n, "x", n, " matrix, got ", matrix.size());
  const char jobz = eigenvectors ? 'V' : 'N', uplo = 'L';
  const int ni = static_cast<int>(n);
  std::vector<double> w(static_cast<size_t>(n));
  int info = 0, lwork = -1, liwork = -1, iwork_query = 0;
  double work_query = 0;
  dsyevd_(&jobz, &uplo, &ni, matrix.data(), &ni, w.data(), &work_query, &lwork, &iwork_query, &liwork, &info, 1, 1);
  GANTRY_CHECK(info == 0, "symmetric_eigenvalues: LAPACK dsyevd workspace query failed (info ", info, ")");
  lwork = static_cast<int>(work_query);
  liwork = iwork_query;
  std::vector<double> work(static_cast<size_t>(std::max(lwork, 1)));
  std::vector<int> iwork(static_cast<size_t>(std::max(liwork, 1)));
  dsyevd_(&jobz, &uplo, &ni, matrix.data(), &ni, w.data(), work.data(), &lwork, iwork.data(), &liwork, &info, 1, 1);
  GANTRY_CHECK(info == 0, "symmetric_eigenvalues: LAPACK dsyevd did not converge (info ", info, ") on a ", n, "x", n,
               " matrix");
  if (eigenvectors) {
    // LAPACK leaves eigenvector k in column k of a column-major matrix; row-major, that is the transpose.
    const auto nn = static_cast<size_t>(n);
    eigenvectors->assign(nn * nn, 0.0);
    for (size_t i = 0; i < nn; ++i)
      for (size_t k = 0; k < nn; ++k) (*eigenvectors)[i * nn + k] = matrix[k * nn + i];
  }
  return w;
}

FrechetDistance frechet_distance(const Tensor& mu1, const Tensor& sigma1, const Tensor& mu2, const Tensor& sigma2,
                                 double eps) {
  GANTRY_CHECK(mu1.dim() == 1 && mu2.dim() == 1 && mu1.numel() == mu2.numel(),
               "Fréchet distance: the means differ in shape: ", shape_str(mu1.shape()), " vs ", shape_str(mu2.shape()));
  const int64_t d = mu1.numel();
  for (const Tensor* s : {&sigma1, &sigma2})
    GANTRY_CHECK(s->dim() == 2 && s->size(0) == d && s->size(1) == d, "Fréchet distance: a covariance of shape ",
                 shape_str(s->shape()), " does not fit means of dimension ", d);
  const std::vector<double> m1 = host_values(mu1, "mu1"), m2 = host_values(mu2, "mu2");
  std::vector<double> s1 = host_values(sigma1, "sigma1"), s2 = host_values(sigma2, "sigma2");
  FrechetDistance out;
  for (int64_t i = 0; i < d; ++i) out.mean_term += (m1[i] - m2[i]) * (m1[i] - m2[i]);
  auto compute = [&] {
    double traces = 0;
    for (int64_t i = 0; i < d; ++i) traces += s1[i * d + i] + s2[i * d + i];
    const TraceResult t = trace_sqrt_product(s1, s2, d);
    out.trace_sqrt_product = t.trace_sqrt;
    out.min_eigenvalue_sigma1 = t.min_eig_sigma1;
    out.min_eigenvalue_product = t.min_eig_product;
    out.value = out.mean_term + traces - 2 * t.trace_sqrt;
  };
  bool finite = true;
  try {
    compute();
    finite = std::isfinite(out.value);
  } catch (const Error&) {
    finite = false;
  }
  if (!finite) {
    for (int64_t i = 0; i < d; ++i) {
      s1[i * d + i] += eps;
      s2[i * d + i] += eps;
    }
    out.used_offset = true;
    compute();
    GANTRY_CHECK(std::isfinite(out.value), "Fréchet distance: not finite even with ", eps,
                 " added to the covariances' diagonals");
  }
  return out;
}

FrechetDistance frechet_distance(const FeatureStatistics& a, const FeatureStatistics& b, double eps) {
  return frechet_distance(a.mu, a.sigma, b.mu, b.sigma, eps);
}

}  // namespace gantry::eval
