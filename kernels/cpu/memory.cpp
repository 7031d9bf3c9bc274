// CPU fill and strided copy (with dtype conversion).
#include <cstring>

#include "engine/dispatch/kernels.h"
#include "kernels/cpu/strided_loop.h"

namespace gantry::cpu {
namespace {

void fill(Tensor& dst, double value) {
  dispatch_all(dst.dtype(), "fill", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T v = static_cast<T>(value);
    strided_loop<1>(dst.shape(), {&dst.strides()}, {byte_ptr(dst)}, {sizeof(T)},
                    [&](std::array<char*, 1> p, int64_t n, std::array<int64_t, 1> s) {
                      if (s[0] == sizeof(T)) {
                        T* o = reinterpret_cast<T*>(p[0]);
                        for (int64_t i = 0; i < n; ++i) o[i] = v;
                      } else {
                        for (int64_t i = 0; i < n; ++i) *reinterpret_cast<T*>(p[0] + i * s[0]) = v;
                      }
                    });
  });
}

void copy(Tensor& dst, const Tensor& src) {
  dispatch_all(dst.dtype(), "copy", [&](auto dtag) {
    using D = typename decltype(dtag)::type;
    dispatch_all(src.dtype(), "copy", [&](auto stag) {
      using S = typename decltype(stag)::type;
      strided_loop<2>(dst.shape(), {&dst.strides(), &src.strides()}, {byte_ptr(dst), byte_ptr(src)},
                      {sizeof(D), sizeof(S)},
                      [&](std::array<char*, 2> p, int64_t n, std::array<int64_t, 2> s) {
                        if constexpr (std::is_same_v<D, S>) {
                          if (s[0] == sizeof(D) && s[1] == sizeof(S)) {
                            std::memcpy(p[0], p[1], n * sizeof(D));
                            return;
                          }
                        }
                        for (int64_t i = 0; i < n; ++i)
                          *reinterpret_cast<D*>(p[0] + i * s[0]) =
                              static_cast<D>(*reinterpret_cast<const S*>(p[1] + i * s[1]));
                      });
    });
  });
}

}  // namespace

GANTRY_REGISTER_KERNEL(fill_kernel, CPU, &fill);
GANTRY_REGISTER_KERNEL(copy_kernel, CPU, &copy);

}  // namespace gantry::cpu
