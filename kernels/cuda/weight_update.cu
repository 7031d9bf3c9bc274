// Fused multi-tensor weight updates outside the optimisers: in-place clamping (weight clipping).
// One launch per call and dtype (kernels/cuda/multi_tensor.cuh); the arithmetic per element is the
// CPU kernel's (kernels/cpu/clamp_in_place.cpp).
#include <cuda_runtime.h>

#include <vector>

#include "engine/dispatch/optim_kernels.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/multi_tensor.cuh"
#include "kernels/cuda/runtime.h"

namespace gantry::cuda {
namespace {

template <typename T>
struct ClampTensor {
  T* p;
};

template <typename T>
__global__ void clamp_multi_tensor(const TensorChunk* chunks, const ClampTensor<T>* tensors, T lo, T hi) {
  const TensorChunk c = chunks[blockIdx.x];
  const ClampTensor<T> t = tensors[c.tensor];
  for (int64_t i = c.begin + threadIdx.x; i < c.end; i += blockDim.x) {
    const T v = t.p[i];
    t.p[i] = v < lo ? lo : (v > hi ? hi : v);  // NaN stays NaN
  }
}

// Calls fn(tag, indices) once per floating dtype present, with the indices of the items of that
// dtype (a multi-tensor launch covers one dtype).
template <typename Items, typename DTypeOf, typename Fn>
void for_each_floating_dtype(const Items& items, DTypeOf dtype_of, Fn fn) {
  for (const DType dtype : {DType::f32, DType::f64}) {
    std::vector<size_t> indices;
    for (size_t i = 0; i < items.size(); ++i)
      if (dtype_of(items[i]) == dtype) indices.push_back(i);
    if (!indices.empty()) dispatch_floating(dtype, "multi-tensor update", [&](auto tag) { fn(tag, indices); });
  }
}

void cuda_clamp_in_place(double min, double max, std::vector<Tensor>& tensors) {
  if (tensors.empty()) return;
  const Device device = tensors[0].device();
  check_device(device, "clamp_in_place");
  for (const Tensor& t : tensors) {
    GANTRY_CHECK(t.device() == device, "clamp_in_place: all tensors must be on ", device.str(), ", got one on ",
                 t.device().str());
    GANTRY_CHECK(t.is_contiguous() && is_floating(t.dtype()), "clamp_in_place: tensors must be contiguous and ",
                 "floating, got ", dtype_name(t.dtype()), " ", shape_str(t.shape()));
  }
  for_each_floating_dtype(
      tensors, [](const Tensor& t) { return t.dtype(); },
      [&](auto tag, const std::vector<size_t>& indices) {
        using T = typename decltype(tag)::type;
        std::vector<ClampTensor<T>> table;
        std::vector<int64_t> sizes;
        for (size_t i : indices) {
          table.push_back(ClampTensor<T>{tensors[i].data_ptr<T>()});
          sizes.push_back(tensors[i].numel());
        }
        const T lo = static_cast<T>(min), hi = static_cast<T>(max);
        run_multi_tensor(table, sizes, device,
                         [&](const TensorChunk* chunks, const ClampTensor<T>* t, unsigned n, cudaStream_t stream) {
                           GANTRY_LAUNCH(n, kMultiTensorThreads, 0, stream, clamp_multi_tensor<T>)(chunks, t, lo, hi);
                         });
      });
}

}  // namespace

GANTRY_REGISTER_KERNEL(clamp_in_place_kernel, CUDA, &cuda_clamp_in_place);

}  // namespace gantry::cuda
