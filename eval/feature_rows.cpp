#include "eval/feature_rows.h"

#include <cmath>
#include <utility>

#include "engine/core/error.h"

namespace gantry::eval {
namespace {

template <typename T>
void check_finite(const T* p, int64_t rows, int64_t cols, const std::string& what) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      GANTRY_CHECK(std::isfinite(p[i * cols + j]), what, ": non-finite value ", static_cast<double>(p[i * cols + j]),
                   " at row ", i, ", column ", j);
}

}  // namespace

FeatureRows::FeatureRows(const Tensor& features, std::string what) : what_(std::move(what)) {
  GANTRY_CHECK(features.defined(), what_, ": no tensor given");
  GANTRY_CHECK(features.dim() == 2, what_, ": expected a 2-D [N, D] feature matrix, got shape ",
               shape_str(features.shape()));
  GANTRY_CHECK(features.dtype() == DType::f32 || features.dtype() == DType::f64, what_,
               ": expected f32 or f64 features, got ", dtype_name(features.dtype()));
  rows_ = features.size(0);
  cols_ = features.size(1);
  GANTRY_CHECK(rows_ > 0 && cols_ > 0, what_, ": empty feature matrix of shape ", shape_str(features.shape()));
  host_ = features.to(kCPU).contiguous();
  if (host_.dtype() == DType::f32) check_finite(host_.data_ptr<float>(), rows_, cols_, what_);
  else check_finite(host_.data_ptr<double>(), rows_, cols_, what_);
}

void FeatureRows::copy_row(int64_t row, double* out) const {
  GANTRY_CHECK(row >= 0 && row < rows_, what_, ": row ", row, " out of range [0, ", rows_, ")");
  if (host_.dtype() == DType::f32) {
    const float* p = host_.data_ptr<float>() + row * cols_;
    for (int64_t j = 0; j < cols_; ++j) out[j] = p[j];
  } else {
    const double* p = host_.data_ptr<double>() + row * cols_;
    for (int64_t j = 0; j < cols_; ++j) out[j] = p[j];
  }
}

void FeatureRows::gather(const int64_t* idx, int64_t n, double* out) const {
  for (int64_t i = 0; i < n; ++i) copy_row(idx[i], out + i * cols_);
}

void FeatureRows::copy_rows(int64_t begin, int64_t end, double* out) const {
  for (int64_t i = begin; i < end; ++i) copy_row(i, out + (i - begin) * cols_);
}

std::vector<double> FeatureRows::to_doubles() const {
  std::vector<double> out(static_cast<size_t>(rows_ * cols_));
  copy_rows(0, rows_, out.data());
  return out;
}

}  // namespace gantry::eval
