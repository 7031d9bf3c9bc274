// Resampling with torch.nn.functional.interpolate's index rules (antialias = false). Nearest picks
// source rows and columns with index_select; bilinear is separable, so it is two products with
// interpolation matrices (two non-zeros per row): out = A_h x A_w^T. Both are compositions of
// differentiable engine ops, so gradients of any order follow.
#include <cmath>
#include <vector>

#include "engine/ops/image_checks.h"
#include "engine/ops/nn_ops.h"
#include "engine/ops/ops.h"

namespace gantry {
namespace {

void check_resample_input(const char* op, const Tensor& x) {
  detail::check_image_operand(op, "input", x);  GANTRY_CHECK(x.shape()[2] >= 1 && x.shape()[3] >= 1, op, ": empty input plane in ", shape_str(x.shape()));
}

// Source-per-destination scale as torch computes it in T (float for nearest, the element type for
// bilinear): 1/scale_factor when a scale factor was given, else in/out.
template <typename T>
T source_scale(int64_t in, int64_t out, std::optional<double> scale_factor) {
  if (scale_factor) return static_cast<T>(1.0 / *scale_factor);
  return static_cast<T>(in) / static_cast<T>(out);
}

Tensor nearest_indices(int64_t in, int64_t out, std::optional<double> scale_factor, Device device) {
  std::vector<int64_t> idx(static_cast<size_t>(out));
  const float scale = source_scale<float>(in, out, scale_factor);
  for (int64_t i = 0; i < out; ++i)
    idx[i] = std::min(static_cast<int64_t>(std::floor(static_cast<float>(i) * scale)), in - 1);
  return from_vector(idx, {out}, device);
}

// [out, in] matrix of the linear interpolation weights along one dim.
template <typename T>
std::vector<T> linear_weights(int64_t in, int64_t out, std::optional<double> scale_factor, bool align_corners) {
  std::vector<T> a(static_cast<size_t>(out * in), T(0));
  const T scale = align_corners ? (out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : T(0))
                                : source_scale<T>(in, out, scale_factor);
  for (int64_t i = 0; i < out; ++i) {
    T src = align_corners ? scale * static_cast<T>(i) : scale * (static_cast<T>(i) + T(0.5)) - T(0.5);
    if (src < T(0)) src = T(0);
    const int64_t lo = std::min(static_cast<int64_t>(std::floor(src)), in - 1);
    const int64_t hi = lo < in - 1 ? lo + 1 : lo;
    const T frac = std::min(std::max(src - static_cast<T>(lo), T(0)), T(1));
    a[i * in + lo] += T(1) - frac;
    a[i * in + hi] += frac;
  }
  return a;
}

Tensor interpolation_matrix(int64_t in, int64_t out, std::optional<double> scale_factor, bool align_corners,
                            const Tensor& like) {
  return dispatch_floating(like.dtype(), "interpolate_bilinear", [&](auto tag) {
    using T = typename decltype(tag)::type;
    return from_vector(linear_weights<T>(in, out, scale_factor, align_corners), {out, in}, like.device());
  });
}

Size2 scaled_size(const char* op, const Tensor& x, double scale_factor) {
  GANTRY_CHECK(scale_factor > 0 && std::isfinite(scale_factor), op, ": scale factor must be positive, got ",
               scale_factor);
  const Size2 out{static_cast<int64_t>(std::floor(static_cast<double>(x.shape()[2]) * scale_factor)),
                  static_cast<int64_t>(std::floor(static_cast<double>(x.shape()[3]) * scale_factor))};
  GANTRY_CHECK(out[0] >= 1 && out[1] >= 1, op, ": scale factor ", scale_factor, " gives an empty output ",
               size2_str(out), " for input ", shape_str(x.shape()));
  return out;
}

void check_size(const char* op, Size2 size) {
  GANTRY_CHECK(size[0] >= 1 && size[1] >= 1, op, ": output size must be positive, got ", size2_str(size));
}

Tensor nearest_impl(const Tensor& x, Size2 size, std::optional<double> scale_factor) {
  const Tensor rows = index_select(x, 2, nearest_indices(x.shape()[2], size[0], scale_factor, x.device()));
  return index_select(rows, 3, nearest_indices(x.shape()[3], size[1], scale_factor, x.device()));
}

Tensor bilinear_impl(const Tensor& x, Size2 size, std::optional<double> scale_factor, bool align_corners) {
  const Tensor a_h = interpolation_matrix(x.shape()[2], size[0], scale_factor, align_corners, x);
  const Tensor a_w = interpolation_matrix(x.shape()[3], size[1], scale_factor, align_corners, x);
  // Width first: [N, C, H, W] x [W, OW] is one tall product; then [OH, H] x [N, C, H, OW].
  return matmul(a_h, matmul(x, a_w.t()));
}

}  // namespace

Tensor interpolate_nearest(const Tensor& x, Size2 size) {
  check_resample_input("interpolate_nearest", x);
  check_size("interpolate_nearest", size);
  return nearest_impl(x, size, std::nullopt);
}

Tensor interpolate_nearest(const Tensor& x, double scale_factor) {
  check_resample_input("interpolate_nearest", x);
  return nearest_impl(x, scaled_size("interpolate_nearest", x, scale_factor), scale_factor);
}

Tensor interpolate_bilinear(const Tensor& x, Size2 size, bool align_corners) {
  check_resample_input("interpolate_bilinear", x);
  check_size("interpolate_bilinear", size);
  return bilinear_impl(x, size, std::nullopt, align_corners);
}

Tensor interpolate_bilinear(const Tensor& x, double scale_factor, bool align_corners) {
  check_resample_input("interpolate_bilinear", x);
  return bilinear_impl(x, scaled_size("interpolate_bilinear", x, scale_factor), scale_factor, align_corners);
}

}  // namespace gantry
