#pragma once
// Feature vectors [N, D] (f32 or f64, any device) as the metrics read them: copied once to contiguous
// host memory in their own dtype, checked finite, and handed out as float64 rows. The metrics do all
// their arithmetic in float64; keeping f32 input as f32 until a row is needed halves the memory of
// 50,000 x 2048 features.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace gantry::eval {

class FeatureRows {
 public:
  // `what` names the input in errors ("KID: real features"). Refuses anything but a 2-D f32/f64
  // tensor with at least one row and column, and non-finite values (naming the row and column).
  FeatureRows(const Tensor& features, std::string what);

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  const std::string& what() const { return what_; }

  // Rows idx[0..n) into out[n * cols()] as float64.
  void gather(const int64_t* idx, int64_t n, double* out) const;
  // Rows [begin, end) into out[(end - begin) * cols()].
  void copy_rows(int64_t begin, int64_t end, double* out) const;
  // All rows, row-major.
  std::vector<double> to_doubles() const;

 private:
  void copy_row(int64_t row, double* out) const;

  Tensor host_;  // contiguous CPU, f32 or f64
  std::string what_;
  int64_t rows_ = 0;
  int64_t cols_ = 0;
};

}  // namespace gantry::eval
