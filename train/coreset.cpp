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
    // dist = sum over j of (x_j - centre_j)^2, accumulated in order j = 0..d-1 with fused multiply-adds.
    for (int64_t j = 0; j < d; ++j) {
      const double* x = coords.data() + j * n;
      const double cj = x[centre];
      double* out = dist.data();
      if (j == 0) {
        for (int64_t i = 0; i < n; ++i) out[i] = (x[i] - cj) * (x[i] - cj);
      } else {
        for (int64_t i = 0; i < n; ++i) out[i] = std::fma(x[i] - cj, x[i] - cj, out[i]);
      }
    }
    double* md = min_dist.data();
    const double* dd = dist.data();
    for (int64_t i = 0; i < n; ++i) md[i] = std::min(md[i], dd[i]);
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
