// CPU gather, scatter_add and top-k. Each walks the positions of the index (or of the outer dims)
// with the shared strided iterator; the indexed dim is addressed explicitly with its stride.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "engine/dispatch/index_kernels.h"
#include "kernels/cpu/strided_loop.h"

namespace gantry::cpu {
namespace {

void check_index(int64_t i, int64_t size, int64_t dim, const char* op) {
  GANTRY_CHECK(i >= 0 && i < size, op, ": index ", i, " is out of range for dim ", dim, " of size ", size);
}

// `strides` with the indexed dim zeroed: walking it on the index's grid stays at coordinate 0 of dim,
// and the index value supplies that coordinate.
Shape without_dim_stride(const Shape& strides, int64_t dim) {
  Shape s = strides;
  s[dim] = 0;
  return s;
}

void gather(Tensor& out, const Tensor& x, int64_t dim, const Tensor& index, const char* op) {
  const int64_t size = x.shape()[dim], dim_stride = x.strides()[dim];
  const Shape x_strides = without_dim_stride(x.strides(), dim);
  dispatch_all(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    strided_loop<3>(index.shape(), {&out.strides(), &index.strides(), &x_strides},
                    {byte_ptr(out), byte_ptr(index), byte_ptr(x)}, {sizeof(T), sizeof(int64_t), sizeof(T)},
                    [&](std::array<char*, 3> p, int64_t n, std::array<int64_t, 3> s) {
                      for (int64_t i = 0; i < n; ++i) {
                        const int64_t j = *reinterpret_cast<const int64_t*>(p[1] + i * s[1]);
                        check_index(j, size, dim, op);
                        *reinterpret_cast<T*>(p[0] + i * s[0]) =
                            reinterpret_cast<const T*>(p[2] + i * s[2])[j * dim_stride];
                      }
                    });
  });
}

void scatter_add(Tensor& out, int64_t dim, const Tensor& index, const Tensor& src, const char* op) {
  const int64_t size = out.shape()[dim], dim_stride = out.strides()[dim];
  const Shape out_strides = without_dim_stride(out.strides(), dim);
  dispatch_floating(out.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    strided_loop<3>(index.shape(), {&out_strides, &index.strides(), &src.strides()},
                    {byte_ptr(out), byte_ptr(index), byte_ptr(src)}, {sizeof(T), sizeof(int64_t), sizeof(T)},
                    [&](std::array<char*, 3> p, int64_t n, std::array<int64_t, 3> s) {
                      for (int64_t i = 0; i < n; ++i) {
                        const int64_t j = *reinterpret_cast<const int64_t*>(p[1] + i * s[1]);
                        check_index(j, size, dim, op);
                        reinterpret_cast<T*>(p[0] + i * s[0])[j * dim_stride] +=
                            *reinterpret_cast<const T*>(p[2] + i * s[2]);
                      }
                    });
  });
}

// Whether entry (a, ia) ranks before (b, ib): by value (NaN above every number), ties by lower index.
template <typename T>
bool ranks_before(T a, int64_t ia, T b, int64_t ib, bool largest) {
  if constexpr (std::is_floating_point_v<T>) {
    const bool na = std::isnan(a), nb = std::isnan(b);
    if (na || nb) {
      if (na && nb) return ia < ib;
      return na == largest;  // a is NaN: first when largest; b is NaN: a first when smallest
    }
  }
  if (a == b) return ia < ib;
  return largest ? a > b : a < b;
}

void topk(Tensor& values, Tensor& indices, const Tensor& x, int64_t k, int64_t dim, bool largest) {
  const int64_t n = x.shape()[dim];
  const int64_t xs = x.strides()[dim], vs = values.strides()[dim], is = indices.strides()[dim];
  Shape outer = x.shape(), x_st = x.strides(), v_st = values.strides(), i_st = indices.strides();
  outer.erase(outer.begin() + dim);
  x_st.erase(x_st.begin() + dim);
  v_st.erase(v_st.begin() + dim);
  i_st.erase(i_st.begin() + dim);
  dispatch_all(x.dtype(), "topk", [&](auto tag) {
    using T = typename decltype(tag)::type;
    std::vector<int64_t> order(static_cast<size_t>(n));
    strided_loop<3>(outer, {&x_st, &v_st, &i_st}, {byte_ptr(x), byte_ptr(values), byte_ptr(indices)},
                    {sizeof(T), sizeof(T), sizeof(int64_t)},
                    [&](std::array<char*, 3> p, int64_t rows, std::array<int64_t, 3> s) {
                      for (int64_t r = 0; r < rows; ++r) {
                        const T* xin = reinterpret_cast<const T*>(p[0] + r * s[0]);
                        T* vout = reinterpret_cast<T*>(p[1] + r * s[1]);
                        int64_t* iout = reinterpret_cast<int64_t*>(p[2] + r * s[2]);
                        for (int64_t i = 0; i < n; ++i) order[i] = i;
                        std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
                          return ranks_before<T>(xin[a * xs], a, xin[b * xs], b, largest);
                        });
                        for (int64_t j = 0; j < k; ++j) {
                          vout[j * vs] = xin[order[j] * xs];
                          iout[j * is] = order[j];
                        }
                      }
                    });
  });
}

}  // namespace

GANTRY_REGISTER_KERNEL(gather_kernel, CPU, &gather);
GANTRY_REGISTER_KERNEL(scatter_add_kernel, CPU, &scatter_add);
GANTRY_REGISTER_KERNEL(topk_kernel, CPU, &topk);

}  // namespace gantry::cpu
