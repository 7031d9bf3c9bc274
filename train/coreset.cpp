#include "train/coreset.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/ops/ops.h"
#include "engine/random/generator.h"
#ifdef GANTRY_WITH_CUDA
#include "kernels/cuda/kcenter.h"
#endif

namespace gantry::train {

namespace {

template <typename T>
double squared_distance(const T* a, const T* b, int64_t d) {
  double s = 0;
  for (int64_t j = 0; j < d; ++j) {
    const double diff = static_cast<double>(a[j]) - static_cast<double>(b[j]);
    s += diff * diff;
  }
  return s;
}

// Dimensions [j0, j0 + W) of the distance to the newest centre: the points' running sums in `out`
// (First: starting from zero), folded into `min_dist` after the last dimension (Last).
template <int W, bool First, bool Last>
void distance_pass_of(const double* const* x, const double* c, int64_t n, double* out, double* min_dist) {
  // Separate non-aliasing pointers, so the loop vectorises without runtime overlap checks.
  const double* __restrict x0 = x[0];
  const double* __restrict x1 = W > 1 ? x[1] : x[0];
  const double* __restrict x2 = W > 2 ? x[2] : x[0];
  const double* __restrict x3 = W > 3 ? x[3] : x[0];
  double* __restrict o = out;
  double* __restrict m = min_dist;
  const double c0 = c[0], c1 = W > 1 ? c[1] : 0, c2 = W > 2 ? c[2] : 0, c3 = W > 3 ? c[3] : 0;
  for (int64_t i = 0; i < n; ++i) {
    const double e0 = x0[i] - c0;
    double acc = First ? e0 * e0 : std::fma(e0, e0, o[i]);
    if constexpr (W > 1) acc = std::fma(x1[i] - c1, x1[i] - c1, acc);
    if constexpr (W > 2) acc = std::fma(x2[i] - c2, x2[i] - c2, acc);
    if constexpr (W > 3) acc = std::fma(x3[i] - c3, x3[i] - c3, acc);
    if constexpr (Last) m[i] = std::min(m[i], acc);
    else o[i] = acc;
  }
}

template <int W>
void distance_pass_w(const double* const* x, const double* c, int64_t n, bool first, bool last, double* out,
                     double* min_dist) {
  if (first && last) return distance_pass_of<W, true, true>(x, c, n, out, min_dist);
  if (first) return distance_pass_of<W, true, false>(x, c, n, out, min_dist);
  if (last) return distance_pass_of<W, false, true>(x, c, n, out, min_dist);
  distance_pass_of<W, false, false>(x, c, n, out, min_dist);
}

// coords: d rows of n coordinates.
void distance_pass(const double* coords, int64_t n, int64_t d, int64_t j0, int64_t centre, double* out,
                   double* min_dist) {
  const int width = static_cast<int>(std::min<int64_t>(4, d - j0));
  const double* x[4];
  double c[4];
  for (int t = 0; t < width; ++t) {
    x[t] = coords + (j0 + t) * n;
    c[t] = x[t][centre];
  }
  const bool first = j0 == 0, last = j0 + width == d;
  switch (width) {
    case 1: return distance_pass_w<1>(x, c, n, first, last, out, min_dist);
    case 2: return distance_pass_w<2>(x, c, n, first, last, out, min_dist);
    case 3: return distance_pass_w<3>(x, c, n, first, last, out, min_dist);
    default: return distance_pass_w<4>(x, c, n, first, last, out, min_dist);
  }
}

}  // namespace

template <typename T>
std::vector<int64_t> greedy_k_center(const T* points, int64_t n, int64_t d, int64_t k, int64_t first) {
  GANTRY_CHECK(n >= 1 && d >= 1, "greedy_k_center: need n >= 1 points of dimension d >= 1, got n ", n, " d ", d);
  GANTRY_CHECK(k >= 1 && k <= n, "greedy_k_center: k must be in [1, n = ", n, "], got ", k);
  GANTRY_CHECK(first >= 0 && first < n, "greedy_k_center: first index ", first, " out of range [0, ", n, ")");
  const auto un = static_cast<size_t>(n);
  // Coordinates in double, one contiguous row per dimension: the per-centre distance update then runs
  // down plain arrays and vectorises (the selection loop is most of a core-set training step).
  std::vector<double> coords(un * static_cast<size_t>(d));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) coords[static_cast<size_t>(j * n + i)] = static_cast<double>(points[i * d + j]);
  std::vector<int64_t> selected;
  selected.reserve(static_cast<size_t>(k));
  // min_dist[i]: squared distance from point i to the selected set; -1 marks selected points (the min
  // update keeps them at -1 and the strict argmax below never picks them).
  std::vector<double> min_dist(un, std::numeric_limits<double>::infinity());
  std::vector<double> dist(un);
  int64_t centre = first;
  for (int64_t c = 0; c < k; ++c) {
    selected.push_back(centre);
    min_dist[static_cast<size_t>(centre)] = -1.0;
    if (c + 1 == k) break;
    // dist = sum over j of (x_j - centre_j)^2, accumulated in order j = 0..d-1 with fused multiply-adds,
    // up to four dimensions per pass over the points (the same operations in the same order, fewer trips
    // through memory); the last pass folds the sum into min_dist.
    for (int64_t j0 = 0; j0 < d; j0 += 4) distance_pass(coords.data(), n, d, j0, centre, dist.data(), min_dist.data());
    const double* md = min_dist.data();
    int64_t farthest = -1;
    double farthest_dist = -1.0;
    for (int64_t i = 0; i < n; ++i)
      if (md[i] > farthest_dist) farthest_dist = md[i], farthest = i;  // strict: lowest index wins ties
    centre = farthest;
  }
  return selected;
}

template std::vector<int64_t> greedy_k_center<float>(const float*, int64_t, int64_t, int64_t, int64_t);
template std::vector<int64_t> greedy_k_center<double>(const double*, int64_t, int64_t, int64_t, int64_t);

namespace {
void check_points(const Tensor& points, const char* op) {
  GANTRY_CHECK(points.defined() && points.dim() == 2 && points.size(0) >= 1 && points.size(1) >= 1, op,
               ": expected points of shape [n, d], got ",
               points.defined() ? shape_str(points.shape()) : std::string("an undefined tensor"));
  GANTRY_CHECK(is_floating(points.dtype()), op, ": expected float points, got ", dtype_name(points.dtype()));
}
}  // namespace

Tensor greedy_k_center(const Tensor& points, int64_t k, Generator& gen) {
  check_points(points, "greedy_k_center");
  const int64_t n = points.size(0), d = points.size(1);
  GANTRY_CHECK(k >= 1 && k <= n, "greedy_k_center: k must be in [1, n = ", n, "], got ", k);
  const int64_t first = randint(0, n, {1}, gen).item<int64_t>();
#ifdef GANTRY_WITH_CUDA
  // Same selection rule on the device (one persistent kernel), so the pool never leaves the GPU.
  if (points.device().is_cuda()) return cuda::kcenter_select(points, k, first);
#endif
  const Tensor host = points.to(kCPU).contiguous();
  std::vector<int64_t> idx = dispatch_floating(host.dtype(), "greedy_k_center", [&](auto tag) {
    using T = typename decltype(tag)::type;
    return greedy_k_center<T>(host.data_ptr<T>(), n, d, k, first);
  });
  return from_vector(idx, {k}, points.device());
}

double minimax_radius(const Tensor& points, const std::vector<int64_t>& selected) {
  check_points(points, "minimax_radius");
  GANTRY_CHECK(!selected.empty(), "minimax_radius: the selected set is empty");
  const Tensor host = points.to(kCPU).to(DType::f64).contiguous();
  const double* p = host.data_ptr<double>();
  const int64_t n = points.size(0), d = points.size(1);
  double worst = 0;
  for (int64_t i = 0; i < n; ++i) {
    double best = std::numeric_limits<double>::infinity();
    for (int64_t s : selected) {
      GANTRY_CHECK(s >= 0 && s < n, "minimax_radius: selected index ", s, " out of range [0, ", n, ")");
      best = std::min(best, squared_distance(p + i * d, p + s * d, d));
    }
    worst = std::max(worst, best);
  }
  return std::sqrt(worst);
}

}  // namespace gantry::train
