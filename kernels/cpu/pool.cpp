// CPU pooling over rectangular windows, one input plane (n, c) and one output row at a time. When the
// column windows are those of a sliding window (width k, step s, clipped to the plane at its borders,
// which is every avg_pool2d / max_pool2d), each plane is first copied with the clipped-away border
// columns filled in (0 for the average, -inf for the maximum) and its columns split into s phases
// (columns r, r + s, r + 2s, ...), so that every output column sees a full window and each tap of an
// output row is a contiguous run over its columns: the average adds tap by tap in vector loops, the
// maximum keeps a register of columns across the taps. A filled-in column changes no result: adding 0
// leaves a sum as it is, and -inf never replaces the window's first real element, from which the
// maximum starts. Both take a window's taps in row-major order, like the per-window loops that the
// other windows (adaptive pooling) take, so every path gives the same bits. Ranges of planes run on the
// engine's CPU threads (parallel_for), each writing only its own planes.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "engine/core/cpu_threads.h"
#include "engine/dispatch/pool_kernels.h"
#include "kernels/cpu/scratch_buffer.h"

namespace gantry::cpu {
namespace {

struct PlaneDims {
  int64_t planes, h, w, oh, ow;
};

PlaneDims plane_dims(const Tensor& in, const PoolWindows& win) {
  return {in.shape()[0] * in.shape()[1], in.shape()[2], in.shape()[3], static_cast<int64_t>(win.row_start.size()),
          static_cast<int64_t>(win.col_start.size())};
}

// Column windows j = [first + j step, first + j step + width) clipped to [0, w): the rows padded by
// pad_left and pad_right columns hold every window whole.
struct SlidingColumns {
  int64_t width = 0, step = 1, first = 0, pad_left = 0, pad_right = 0;
  int64_t padded_w(int64_t w) const { return w + pad_left + pad_right; }
  int64_t origin() const { return first + pad_left; }  // where window 0 starts in a padded row
};

// The sliding window that gives exactly win's column windows, if there is one.
std::optional<SlidingColumns> sliding_columns(const PoolWindows& win, int64_t w) {
  const auto n = static_cast<int64_t>(win.col_start.size());
  if (n == 0) return std::nullopt;
  SlidingColumns s;
  for (int64_t j = 0; j < n; ++j) s.width = std::max(s.width, win.col_end[j] - win.col_start[j]);
  // An unclipped window fixes the first start; the step comes from two neighbours.
  int64_t full = 0;
  while (full < n && win.col_end[full] - win.col_start[full] != s.width) ++full;
  s.step = n > 1 ? (full + 1 < n ? win.col_start[full + 1] - win.col_start[full]
                                 : win.col_start[full] - win.col_start[full - 1])
                 : 1;
  if (s.step < 1) return std::nullopt;
  s.first = win.col_start[full] - full * s.step;
  for (int64_t j = 0; j < n; ++j) {
    const int64_t lo = s.first + j * s.step, hi = lo + s.width;
    if (win.col_start[j] != std::max<int64_t>(lo, 0) || win.col_end[j] != std::min(hi, w)) return std::nullopt;
  }
  s.pad_left = std::max<int64_t>(0, -s.first);
  s.pad_right = std::max<int64_t>(0, s.first + (n - 1) * s.step + s.width - w);
  return s;
}

// One plane's rows with the border columns filled in and split by column phase for step s: phase r of
// row y holds padded columns r, r + s, r + 2s, ... (`fill` past the end), so tap column c (padded
// coordinates: c = origin + dx) of output column j is element j + c / s of phase c % s.
template <typename T>
struct PhasedRows {
  const T* data;
  int64_t phase_len, step;
  const T* tap(int64_t y, int64_t c) const { return data + (y * step + c % step) * phase_len + c / step; }
};

template <typename T>
PhasedRows<T> phased_rows(const T* plane, const PlaneDims& d, const SlidingColumns& sc, T fill) {
  const int64_t s = sc.step;
  if (s == 1 && sc.pad_left == 0 && sc.pad_right == 0) return {plane, d.w, 1};
  const int64_t len = (sc.padded_w(d.w) + s - 1) / s;
  T* rows = scratch<T>(ScratchSlot::padded, static_cast<size_t>(d.h * s * len));
  for (int64_t y = 0; y < d.h; ++y)
    for (int64_t r = 0; r < s; ++r) {
      // Phase r's element m is padded column r + m s, plane column r + m s - pad_left: real for m in
      // [lo, hi).
      T* dst = rows + (y * s + r) * len;
      const T* src = plane + y * d.w + r - sc.pad_left;
      const int64_t lo = std::min(len, std::max<int64_t>(0, (sc.pad_left - r + s - 1) / s));
      const int64_t hi = std::max(lo, std::min(len, (d.w + sc.pad_left - r + s - 1) / s));
      std::fill(dst, dst + lo, fill);
      if (s == 1) {
        std::memcpy(dst + lo, src + lo, static_cast<size_t>(hi - lo) * sizeof(T));
      } else {
        for (int64_t m = lo; m < hi; ++m) dst[m] = src[m * s];
      }
      std::fill(dst + hi, dst + len, fill);
    }
  return {rows, len, s};
}

// Calls fn(first, planes) for ranges of planes on the CPU threads: planes is d for `count` planes
// from plane `first` on.
template <typename Fn>
void for_plane_ranges(const PlaneDims& d, Fn&& fn) {
  parallel_for(d.planes, grain_for(d.h * d.w + 9 * d.oh * d.ow), [&](int64_t first, int64_t last) {
    PlaneDims part = d;
    part.planes = last - first;
    fn(first, part);
  });
}

template <typename T>
T window_divisor(const PoolWindows& win, int64_t i, int64_t j) {
  return static_cast<T>(win.row_divisor[i] * win.col_divisor[j]);
}

// Whether v replaces the running maximum: larger, or the first NaN (NaN wins and stays).
template <typename T>
bool takes_over(T v, T best) {
  return v > best || (std::isnan(v) && !std::isnan(best));
}

template <typename T>
void avg_pool_sliding(T* out, const T* x, const PlaneDims& d, const PoolWindows& win, const SlidingColumns& sc) {
  const int64_t ow = d.ow;
  for (int64_t pl = 0; pl < d.planes; ++pl) {
    const PhasedRows<T> rows = phased_rows(x + pl * d.h * d.w, d, sc, T(0));
    for (int64_t i = 0; i < d.oh; ++i) {
      T* __restrict__ acc = out + (pl * d.oh + i) * ow;
      std::fill(acc, acc + ow, T(0));
      for (int64_t y = win.row_start[i]; y < win.row_end[i]; ++y)
        for (int64_t dx = 0; dx < sc.width; ++dx) {
          const T* __restrict__ src = rows.tap(y, sc.origin() + dx);
          for (int64_t j = 0; j < ow; ++j) acc[j] += src[j];
        }
      for (int64_t j = 0; j < ow; ++j) acc[j] /= window_divisor<T>(win, i, j);
    }
  }
}

template <typename T>
void avg_pool_any(T* out, const T* x, const PlaneDims& d, const PoolWindows& win) {
  for (int64_t pl = 0; pl < d.planes; ++pl) {
    const T* plane = x + pl * d.h * d.w;
    T* res = out + pl * d.oh * d.ow;
    for (int64_t i = 0; i < d.oh; ++i)
      for (int64_t j = 0; j < d.ow; ++j) {
        T acc = 0;
        for (int64_t y = win.row_start[i]; y < win.row_end[i]; ++y)
          for (int64_t xx = win.col_start[j]; xx < win.col_end[j]; ++xx) acc += plane[y * d.w + xx];
        res[i * d.ow + j] = acc / window_divisor<T>(win, i, j);
      }
  }
}

template <typename T>
void avg_pool_impl(Tensor& out, const Tensor& x, const PoolWindows& win) {
  const PlaneDims d = plane_dims(x, win);
  const T* xp = x.data_ptr<T>();
  T* op = out.data_ptr<T>();
  const std::optional<SlidingColumns> sc = sliding_columns(win, d.w);
  for_plane_ranges(d, [&](int64_t first, const PlaneDims& part) {
    T* out_part = op + first * d.oh * d.ow;
    const T* x_part = xp + first * d.h * d.w;
    if (sc) avg_pool_sliding(out_part, x_part, part, win, *sc);
    else avg_pool_any(out_part, x_part, part, win);
  });
}

template <typename T>
void avg_pool_backward_impl(Tensor& grad_x, const Tensor& grad_out, const PoolWindows& win) {
  const PlaneDims d = plane_dims(grad_x, win);
  const T* gp = grad_out.data_ptr<T>();
  T* gxp = grad_x.data_ptr<T>();
  for_plane_ranges(d, [&](int64_t first, const PlaneDims& part) {
    std::fill(gxp + first * d.h * d.w, gxp + (first + part.planes) * d.h * d.w, T(0));
    for (int64_t pl = first; pl < first + part.planes; ++pl) {
      T* plane = gxp + pl * d.h * d.w;
      const T* g = gp + pl * d.oh * d.ow;
      for (int64_t i = 0; i < d.oh; ++i)
        for (int64_t j = 0; j < d.ow; ++j) {
          const T share = g[i * d.ow + j] / window_divisor<T>(win, i, j);
          for (int64_t y = win.row_start[i]; y < win.row_end[i]; ++y)
            for (int64_t xx = win.col_start[j]; xx < win.col_end[j]; ++xx) plane[y * d.w + xx] += share;
        }
    }
  });
}

// Tap (dy, dx) of a window as one number, dy << 16 | dx: the sliding path takes windows narrower than
// 2^16 columns and shorter than 2^15 rows (every real pooling window).
constexpr int kTapShift = 16;

// A register of lanes of T (GCC / Clang vector extensions, 32 bytes: AVX2 with -march=x86-64-v3) and
// the integer lanes of its compare masks, which also hold the tap numbers.
template <typename T>
struct Lanes;
template <>
struct Lanes<float> {
  typedef float vec __attribute__((vector_size(32)));
  typedef int32_t mask __attribute__((vector_size(32)));
  using index = int32_t;
  static constexpr int64_t n = 8;
};
template <>
struct Lanes<double> {
  typedef double vec __attribute__((vector_size(32)));
  typedef int64_t mask __attribute__((vector_size(32)));
  using index = int64_t;
  static constexpr int64_t n = 4;
};

template <typename V, typename T>
V load_lanes(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <typename T, typename V>
void store_lanes(T* p, const V& v) {
  std::memcpy(p, &v, sizeof v);
}

// The maximum of Lanes<T>::n output columns from j0 on, tap by tap in one register, starting from
// first[], each window's first real element: best[] gets the maximum, tap[] the tap that holds it, or
// -1 for that first element (which a tap equal to it does not replace).
template <typename T>
void max_pool_lanes(T* best, typename Lanes<T>::index* tap, const T* first, const PhasedRows<T>& rows, int64_t y0,
                    int64_t y1, const SlidingColumns& sc, int64_t j0) {
  using V = typename Lanes<T>::vec;
  using M = typename Lanes<T>::mask;
  V b = load_lanes<V>(first + j0);
  M at = M{} - 1;
  for (int64_t y = y0; y < y1; ++y)
    for (int64_t dx = 0; dx < sc.width; ++dx) {
      const V v = load_lanes<V>(rows.tap(y, sc.origin() + dx) + j0);
      // takes_over, lane by lane: larger, or the first NaN.
      const M take = (v > b) | ((v != v) & (b == b));
      const M t = M{} + static_cast<typename Lanes<T>::index>((y - y0) << kTapShift | dx);
      b = (V)(((M)v & take) | ((M)b & ~take));
      at = (t & take) | (at & ~take);
    }
  store_lanes(best + j0, b);
  store_lanes(tap + j0, at);
}

// The same for one output column.
template <typename T>
void max_pool_column(T* best, typename Lanes<T>::index* tap, const T* first, const PhasedRows<T>& rows, int64_t y0,
                     int64_t y1, const SlidingColumns& sc, int64_t j) {
  T b = first[j];
  typename Lanes<T>::index at = -1;
  for (int64_t y = y0; y < y1; ++y)
    for (int64_t dx = 0; dx < sc.width; ++dx) {
      const T v = rows.tap(y, sc.origin() + dx)[j];
      if (takes_over(v, b)) {
        b = v;
        at = static_cast<typename Lanes<T>::index>((y - y0) << kTapShift | dx);
      }
    }
  best[j] = b;
  tap[j] = at;
}

template <typename T>
void max_pool_sliding(T* out, int64_t* indices, const T* x, const PlaneDims& d, const PoolWindows& win,
                      const SlidingColumns& sc) {
  constexpr int64_t kLanes = Lanes<T>::n;
  const int64_t ow = d.ow;
  auto* tap = scratch<typename Lanes<T>::index>(ScratchSlot::columns, static_cast<size_t>(ow));
  T* first = scratch<T>(ScratchSlot::transposed, static_cast<size_t>(ow));
  for (int64_t pl = 0; pl < d.planes; ++pl) {
    const T* plane = x + pl * d.h * d.w;
    const PhasedRows<T> rows = phased_rows(plane, d, sc, -std::numeric_limits<T>::infinity());
    for (int64_t i = 0; i < d.oh; ++i) {
      T* best = out + (pl * d.oh + i) * ow;
      const int64_t top = win.row_start[i], bottom = win.row_end[i];
      for (int64_t j = 0; j < ow; ++j) first[j] = plane[top * d.w + win.col_start[j]];
      if (ow >= kLanes) {
        // Registers of kLanes columns; the last overlaps its neighbour (recomputing the same values)
        // rather than run short.
        for (int64_t j0 = 0; j0 < ow; j0 += kLanes)
          max_pool_lanes(best, tap, first, rows, top, bottom, sc, std::min(j0, ow - kLanes));
      } else {
        for (int64_t j = 0; j < ow; ++j) max_pool_column(best, tap, first, rows, top, bottom, sc, j);
      }
      int64_t* index = indices + (pl * d.oh + i) * ow;
      for (int64_t j = 0; j < ow; ++j) {
        const int64_t t = tap[j];
        index[j] = t < 0 ? top * d.w + win.col_start[j]
                         : (top + (t >> kTapShift)) * d.w + sc.first + j * sc.step + (t & ((1 << kTapShift) - 1));
      }
    }
  }
}

template <typename T>
void max_pool_any(T* out, int64_t* indices, const T* x, const PlaneDims& d, const PoolWindows& win) {
  for (int64_t pl = 0; pl < d.planes; ++pl) {
    const T* plane = x + pl * d.h * d.w;
    for (int64_t i = 0; i < d.oh; ++i)
      for (int64_t j = 0; j < d.ow; ++j) {
        int64_t best = win.row_start[i] * d.w + win.col_start[j];
        T best_val = plane[best];
        for (int64_t y = win.row_start[i]; y < win.row_end[i]; ++y)
          for (int64_t xx = win.col_start[j]; xx < win.col_end[j]; ++xx)
            if (takes_over(plane[y * d.w + xx], best_val)) {
              best_val = plane[y * d.w + xx];
              best = y * d.w + xx;
            }
        out[(pl * d.oh + i) * d.ow + j] = best_val;
        indices[(pl * d.oh + i) * d.ow + j] = best;
      }
  }
}

template <typename T>
void max_pool_impl(Tensor& out, Tensor& indices, const Tensor& x, const PoolWindows& win) {
  const PlaneDims d = plane_dims(x, win);
  const T* xp = x.data_ptr<T>();
  T* op = out.data_ptr<T>();
  int64_t* ip = indices.data_ptr<int64_t>();
  const std::optional<SlidingColumns> sc = sliding_columns(win, d.w);
  int64_t tallest = 0;
  for (int64_t i = 0; i < d.oh; ++i) tallest = std::max(tallest, win.row_end[i] - win.row_start[i]);
  const bool small_windows = sc && sc->width < (int64_t{1} << kTapShift) && tallest < (int64_t{1} << 15);
  for_plane_ranges(d, [&](int64_t first, const PlaneDims& part) {
    T* out_part = op + first * d.oh * d.ow;
    int64_t* indices_part = ip + first * d.oh * d.ow;
    const T* x_part = xp + first * d.h * d.w;
    if (small_windows) max_pool_sliding(out_part, indices_part, x_part, part, win, *sc);
    else max_pool_any(out_part, indices_part, x_part, part, win);
  });
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
