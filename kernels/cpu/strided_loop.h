#pragma once
// The CPU backend's one strided iterator: walks N operands of the same shape (each with its own
// element strides, 0 on broadcast dims) and calls `row(ptrs, n, inner_strides)` for each innermost
// row after merging dims that are contiguous in every operand, so contiguous tensors are one row.
#include <array>
#include <cstdint>
#include <vector>

#include "engine/core/tensor.h"

namespace gantry::cpu {

template <size_t N, typename Row>
void strided_loop(const Shape& shape, const std::array<const Shape*, N>& strides,
                  const std::array<char*, N>& base, const std::array<int64_t, N>& itemsizes, Row&& row) {
  // Collapse dims, innermost first, keeping dims of size != 1.
  std::vector<int64_t> sizes;
  std::vector<std::array<int64_t, N>> st;  // byte strides per kept dim (innermost first)
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] == 1) continue;
    std::array<int64_t, N> s{};
    for (size_t k = 0; k < N; ++k) s[k] = (*strides[k])[d] * itemsizes[k];
    if (!sizes.empty()) {
      bool mergeable = true;
      for (size_t k = 0; k < N; ++k)
        if (s[k] != st.back()[k] * sizes.back()) mergeable = false;
      if (mergeable) {
        sizes.back() *= shape[d];
        continue;
      }
    }
    sizes.push_back(shape[d]);
    st.push_back(s);
  }
  for (int64_t d : shape)
    if (d == 0) return;
  if (sizes.empty()) {  // a single element
    sizes.push_back(1);
    st.push_back({});
  }
  const int64_t inner = sizes[0];
  const std::array<int64_t, N> inner_st = st[0];
  const size_t outer_dims = sizes.size() - 1;
  std::vector<int64_t> idx(outer_dims, 0);
  std::array<char*, N> p = base;
  while (true) {
    row(p, inner, inner_st);
    size_t d = 0;
    for (; d < outer_dims; ++d) {
      ++idx[d];
      for (size_t k = 0; k < N; ++k) p[k] += st[d + 1][k];
      if (idx[d] < sizes[d + 1]) break;
      for (size_t k = 0; k < N; ++k) p[k] -= st[d + 1][k] * sizes[d + 1];
      idx[d] = 0;
    }
    if (d == outer_dims) return;
  }
}

inline char* byte_ptr(const Tensor& t) { return static_cast<char*>(t.raw_data()); }

}  // namespace gantry::cpu
