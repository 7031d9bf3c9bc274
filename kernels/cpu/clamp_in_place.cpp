// In-place clamp of a list of tensors (weight clipping). NaN fails both comparisons and stays NaN,
// as in torch.clamp_.
#include "engine/dispatch/optim_kernels.h"

namespace gantry::cpu {
namespace {

template <typename T>
void clamp_one(T lo, T hi, Tensor& t) {
  T* __restrict p = t.data_ptr<T>();
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) {
    const T v = p[i];
    p[i] = v < lo ? lo : (v > hi ? hi : v);
  }
}

void clamp_in_place(double min, double max, std::vector<Tensor>& tensors) {
  for (Tensor& t : tensors)
    dispatch_floating(t.dtype(), "clamp_in_place", [&](auto tag) {
      using T = typename decltype(tag)::type;
      clamp_one<T>(static_cast<T>(min), static_cast<T>(max), t);
    });
}

}  // namespace

GANTRY_REGISTER_KERNEL(clamp_in_place_kernel, CPU, &clamp_in_place);

}  // namespace gantry::cpu
