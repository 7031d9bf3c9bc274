#include "eval/kernel_inception_distance.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"
#include "engine/random/generator.h"
#include "eval/feature_rows.h"

namespace gantry::eval {
namespace {

double cubic_kernel(double dot, double inv_dim) {
  const double v = dot * inv_dim + 1.0;
  return v * v * v;
}

// sum_{i != j} k(x_i, x_j) over the m rows of x: the Gram matrix's upper triangle from dsyrk.
double within_set_kernel_sum(const std::vector<double>& x, int64_t m, int64_t d) {
  std::vector<double> gram(static_cast<size_t>(m * m));
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, static_cast<blasint>(m), static_cast<blasint>(d), 1.0, x.data(),
              static_cast<blasint>(d), 0.0, gram.data(), static_cast<blasint>(m));
  const double inv_dim = 1.0 / static_cast<double>(d);
  double total = 0;
  for (int64_t i = 0; i < m; ++i) {
    double row = 0;  // one partial sum per row keeps the rounding of a million terms small
    for (int64_t j = i + 1; j < m; ++j) row += cubic_kernel(gram[i * m + j], inv_dim);
    total += row;
  }
  return 2 * total;
}

double cross_kernel_sum(const std::vector<double>& x, int64_t m, const std::vector<double>& y, int64_t n, int64_t d) {
  std::vector<double> gram(static_cast<size_t>(m * n));
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(m), static_cast<blasint>(n),
              static_cast<blasint>(d), 1.0, x.data(), static_cast<blasint>(d), y.data(), static_cast<blasint>(d), 0.0,
              gram.data(), static_cast<blasint>(n));
  const double inv_dim = 1.0 / static_cast<double>(d);
  double total = 0;
  for (int64_t i = 0; i < m; ++i) {
    double row = 0;
    for (int64_t j = 0; j < n; ++j) row += cubic_kernel(gram[i * n + j], inv_dim);
    total += row;
  }
  return total;
}

double mmd2_unbiased(const std::vector<double>& x, int64_t m, const std::vector<double>& y, int64_t n, int64_t d) {
  const double dm = static_cast<double>(m), dn = static_cast<double>(n);
  return within_set_kernel_sum(x, m, d) / (dm * (dm - 1)) + within_set_kernel_sum(y, n, d) / (dn * (dn - 1)) -
         2 * cross_kernel_sum(x, m, y, n, d) / (dm * dn);
}

void check_pair(const FeatureRows& a, const FeatureRows& b, const char* op) {
  GANTRY_CHECK(a.cols() == b.cols(), op, ": ", a.what(), " have dimension ", a.cols(), " but ", b.what(),
               " have dimension ", b.cols());
  for (const FeatureRows* r : {&a, &b})
    GANTRY_CHECK(r->rows() >= 2, op, ": ", r->what(), " need at least 2 rows for the unbiased estimate, got ",
                 r->rows());
}

}  // namespace

double polynomial_mmd2_unbiased(const Tensor& x, const Tensor& y) {
  const FeatureRows xr(x, "MMD: x"), yr(y, "MMD: y");
  check_pair(xr, yr, "MMD");
  return mmd2_unbiased(xr.to_doubles(), xr.rows(), yr.to_doubles(), yr.rows(), xr.cols());
}

KernelInceptionDistance kernel_inception_distance(const Tensor& real, const Tensor& fake,
                                                  const KernelInceptionDistanceOptions& options) {
  const FeatureRows real_rows(real, "KID: real features"), fake_rows(fake, "KID: fake features");
  check_pair(real_rows, fake_rows, "KID");
  GANTRY_CHECK(options.num_subsets >= 1, "KID: num_subsets must be >= 1, got ", options.num_subsets);
  GANTRY_CHECK(options.max_subset_size >= 2, "KID: max_subset_size must be >= 2, got ", options.max_subset_size);
  const int64_t m = std::min({options.max_subset_size, real_rows.rows(), fake_rows.rows()});
  const int64_t d = real_rows.cols();
  KernelInceptionDistance out;
  out.subset_size = m;
  Generator gen(options.seed);
  std::vector<double> x(static_cast<size_t>(m * d)), y(x.size());
  for (int64_t s = 0; s < options.num_subsets; ++s) {
    const Tensor fake_order = randperm(fake_rows.rows(), gen);
    const Tensor real_order = randperm(real_rows.rows(), gen);
    fake_rows.gather(fake_order.data_ptr<int64_t>(), m, x.data());
    real_rows.gather(real_order.data_ptr<int64_t>(), m, y.data());
    out.subset_values.push_back(mmd2_unbiased(x, m, y, m, d));
  }
  const double k = static_cast<double>(out.subset_values.size());
  for (double v : out.subset_values) out.mean += v;
  out.mean /= k;
  double var = 0;
  for (double v : out.subset_values) var += (v - out.mean) * (v - out.mean);
  out.std = std::sqrt(var / k);
  return out;
}

}  // namespace gantry::eval
