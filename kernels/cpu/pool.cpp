// CPU pooling over rectangular windows, one input plane (n, c) at a time.
#include <algorithm>
#include <cmath>

#include "engine/dispatch/pool_kernels.h"

namespace gantry::cpu {
namespace {

struct PlaneDims {
  int64_t planes, h, w, oh, ow;
};

PlaneDims plane_dims(const Tensor& in, const PoolWindows& win) {
  return {in.shape()[0] * in.shape()[1], in.shape()[2], in.shape()[3], static_cast<int64_t>(win.row_start.size()),
          static_cast<int64_t>(win.col_start.size())};
}

template <typename T>
void avg_pool_impl(Tensor& out, const Tensor& x, const PoolWindows& win) {
  const PlaneDims d = plane_dims(x, win);
  const T* xp = x.data_ptr<T>();
  T* op = out.data_ptr<T>();
  for (int64_t pl = 0; pl < d.planes; ++pl) {
    const T* plane = xp + pl * d.h * d.w;
    T* res = op + pl * d.oh * d.ow;
    for (int64_t i = 0; i < d.oh; ++i)
      for (int64_t j = 0; j < d.ow; ++j) {
        T acc = 0;
        for (int64_t y = win.row_start[i]; y < win.row_end[i]; ++y)
          for (int64_t xx = win.col_start[j]; xx < win.col_end[j]; ++xx) acc += plane[y * d.w + xx];
        res[i * d.ow + j] = acc / static_cast<T>(win.row_divisor[i] * win.col_divisor[j]);
      }
  }
}

template <typename T>
void avg_pool_backward_impl(Tensor& grad_x, const Tensor& grad_out, const PoolWindows& win) {
  const PlaneDims d = plane_dims(grad_x, win);
  const T* gp = grad_out.data_ptr<T>();
  T* gxp = grad_x.data_ptr<T>();
  std::fill(gxp, gxp + d.planes * d.h * d.w, T(0));
  for (int64_t pl = 0; pl < d.planes; ++pl) {
    T* plane = gxp + pl * d.h * d.w;
    const T* g = gp + pl * d.oh * d.ow;
    for (int64_t i = 0; i < d.oh; ++i)
      for (int64_t j = 0; j < d.ow; ++j) {
        const T share = g[i * d.ow + j] / static_cast<T>(win.row_divisor[i] * win.col_divisor[j]);
        for (int64_t y = win.row_start[i]; y < win.row_end[i]; ++y)
          for (int64_t xx = win.col_start[j]; xx < win.col_end[j]; ++xx) plane[y * d.w + xx] += share;
      }
  }
}

template <typename T>
void max_pool_impl(Tensor& out, Tensor& indices, const Tensor& x, const PoolWindows& win) {
  const PlaneDims d = plane_dims(x, win);
  const T* xp = x.data_ptr<T>();
  T* op = out.data_ptr<T>();
  int64_t* ip = indices.data_ptr<int64_t>();
  for (int64_t pl = 0; pl < d.planes; ++pl) {
    const T* plane = xp + pl * d.h * d.w;
    for (int64_t i = 0; i < d.oh; ++i)
      for (int64_t j = 0; j < d.ow; ++j) {
        int64_t best = win.row_start[i] * d.w + win.col_start[j];
        T best_val = plane[best];
        for (int64_t y = win.row_start[i]; y < win.row_end[i]; ++y)
          for (int64_t xx = win.col_start[j]; xx < win.col_end[j]; ++xx) {
            const T v = plane[y * d.w + xx];
            if (v > best_val || (std::isnan(v) && !std::isnan(best_val))) {
              best_val = v;
              best = y * d.w + xx;
            }
          }
        op[pl * d.oh * d.ow + i * d.ow + j] = best_val;
        ip[pl * d.oh * d.ow + i * d.ow + j] = best;
      }
  }
}

void avg_pool2d(Tensor& out, const Tensor& x, const PoolWindows& win) {
  dispatch_floating(x.dtype(), "avg_pool2d", [&](auto tag) { avg_pool_impl<typename decltype(tag)::type>(out, x, win); });
}

void avg_pool2d_backward(Tensor& grad_x, const Tensor& grad_out, const PoolWindows& win) {
  dispatch_floating(grad_out.dtype(), "avg_pool2d_backward", [&](auto tag) {
    avg_pool_backward_impl<typename decltype(tag)::type>(grad_x, grad_out, win);
  });
}

void max_pool2d(Tensor& out, Tensor& indices, const Tensor& x, const PoolWindows& win) {
  dispatch_floating(x.dtype(), "max_pool2d", [&](auto tag) {
    max_pool_impl<typename decltype(tag)::type>(out, indices, x, win);
  });
}

}  // namespace

GANTRY_REGISTER_KERNEL(avg_pool2d_kernel, CPU, &avg_pool2d);
GANTRY_REGISTER_KERNEL(avg_pool2d_backward_kernel, CPU, &avg_pool2d_backward);
GANTRY_REGISTER_KERNEL(max_pool2d_kernel, CPU, &max_pool2d);

}  // namespace gantry::cpu
