// Fused multi-tensor weight updates outside the optimisers: in-place clamping (weight clipping) and
// the exponential moving average of weights. One launch per call and dtype
// (kernels/cuda/multi_tensor.cuh); the arithmetic per element is the CPU kernels'
// (kernels/cpu/clamp_in_place.cpp, ema.cpp), up to fused multiply-adds.
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

template <typename T>
struct EmaTensor {
  T* shadow;
  const T* source;
};

template <typename T>
__global__ void ema_multi_tensor(const TensorChunk* chunks, const EmaTensor<T>* tensors, T decay, T one_minus_decay) {
  const TensorChunk c = chunks[blockIdx.x];
  const EmaTensor<T> t = tensors[c.tensor];
  for (int64_t i = c.begin + threadIdx.x; i < c.end; i += blockDim.x)
    t.shadow[i] = t.shadow[i] * decay + t.source[i] * one_minus_decay;
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

void cuda_ema(double decay, std::vector<EmaSlot>& slots) {
  if (slots.empty()) return;
  const Device device = slots[0].shadow.device();
  check_device(device, "ema");
  for (const EmaSlot& s : slots) {
    GANTRY_CHECK(s.shadow.device() == device && s.shadow.is_contiguous() && is_floating(s.shadow.dtype()),
                 "ema: shadow tensors must be contiguous floating tensors on ", device.str());
    check_slot_tensor(s.source, s.shadow, "ema", "source");
  }
  for_each_floating_dtype(
      slots, [](const EmaSlot& s) { return s.shadow.dtype(); },
      [&](auto tag, const std::vector<size_t>& indices) {
        using T = typename decltype(tag)::type;
        std::vector<EmaTensor<T>> table;
        std::vector<int64_t> sizes;
        for (size_t i : indices) {
          table.push_back(EmaTensor<T>{slots[i].shadow.data_ptr<T>(), slots[i].source.data_ptr<T>()});
          sizes.push_back(slots[i].shadow.numel());
        }
        const T d = static_cast<T>(decay), one_minus_d = static_cast<T>(1.0 - decay);
        run_multi_tensor(table, sizes, device,
                         [&](const TensorChunk* chunks, const EmaTensor<T>* t, unsigned n, cudaStream_t stream) {
                           GANTRY_LAUNCH(n, kMultiTensorThreads, 0, stream, ema_multi_tensor<T>)
                           (chunks, t, d, one_minus_d);
                         });
      });
}

}  // namespace

GANTRY_REGISTER_KERNEL(clamp_in_place_kernel, CUDA, &cuda_clamp_in_place);
GANTRY_REGISTER_KERNEL(ema_kernel, CUDA, &cuda_ema);

}  // namespace gantry::cuda
