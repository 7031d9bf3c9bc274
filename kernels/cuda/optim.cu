// Fused multi-tensor Adam/AMSGrad, SGD and RMSprop updates: one launch per call (per dtype) covers
// every parameter, each block updating one chunk of one tensor (kernels/cuda/multi_tensor.cuh). The arithmetic per
// element follows the CPU kernels (kernels/cpu/adam.cpp, sgd.cpp, rmsprop.cpp) operation by operation; the
// device may fuse multiply-adds, so results agree to rounding, not bit for bit.
#include <cuda_runtime.h>

#include <cmath>
#include <vector>

#include "engine/dispatch/optim_kernels.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/multi_tensor.cuh"
#include "kernels/cuda/runtime.h"

namespace gantry::cuda {
namespace {

template <typename T>
struct AdamTensor {
  T *p, *m, *v, *vmax;
  const T* g;
  T neg_step_size, bias_correction2_sqrt;
};

template <typename T>
struct AdamScalars {
  T wd, beta1, one_minus_beta1, beta2, one_minus_beta2, eps;
  bool decay;
};

template <typename T>
struct SgdTensor {
  T *p, *buf;
  const T* g;
  bool first_step;
};

template <typename T>
struct SgdScalars {
  T wd, momentum, one_minus_dampening, neg_lr;
  bool decay, nesterov;
};

template <typename T>
struct RMSpropTensor {
  T *p, *square_avg, *grad_avg, *buf;  // grad_avg: centered only; buf: momentum > 0 only
  const T* g;
};

template <typename T>
struct RMSpropScalars {
  T wd, alpha, one_minus_alpha, eps, momentum, neg_lr;
  bool decay;
};

template <typename T>
__global__ void adam_multi_tensor(const TensorChunk* chunks, const AdamTensor<T>* tensors, AdamScalars<T> h) {
  const TensorChunk c = chunks[blockIdx.x];
  const AdamTensor<T> t = tensors[c.tensor];
  for (int64_t i = c.begin + threadIdx.x; i < c.end; i += blockDim.x) {
    const T gi = h.decay ? t.g[i] + h.wd * t.p[i] : t.g[i];
    const T m = t.m[i] * h.beta1 + h.one_minus_beta1 * gi;
    const T v = t.v[i] * h.beta2 + h.one_minus_beta2 * gi * gi;
    t.m[i] = m;
    t.v[i] = v;
    T second = v;
    if (t.vmax) {
      second = t.vmax[i] > v ? t.vmax[i] : v;
      t.vmax[i] = second;
    }
    const T denom = sqrt(second) / t.bias_correction2_sqrt + h.eps;
    t.p[i] = t.p[i] + t.neg_step_size * m / denom;
  }
}

template <typename T>
__global__ void sgd_multi_tensor(const TensorChunk* chunks, const SgdTensor<T>* tensors, SgdScalars<T> h) {
  const TensorChunk c = chunks[blockIdx.x];
  const SgdTensor<T> t = tensors[c.tensor];
  for (int64_t i = c.begin + threadIdx.x; i < c.end; i += blockDim.x) {
    T d = h.decay ? t.g[i] + h.wd * t.p[i] : t.g[i];
    if (t.buf) {
      const T b = t.first_step ? d : t.buf[i] * h.momentum + h.one_minus_dampening * d;
      t.buf[i] = b;
      d = h.nesterov ? d + h.momentum * b : b;
    }
    t.p[i] = t.p[i] + h.neg_lr * d;
  }
}

template <typename T>
__global__ void rmsprop_multi_tensor(const TensorChunk* chunks, const RMSpropTensor<T>* tensors, RMSpropScalars<T> h) {
  const TensorChunk c = chunks[blockIdx.x];
  const RMSpropTensor<T> t = tensors[c.tensor];
  for (int64_t i = c.begin + threadIdx.x; i < c.end; i += blockDim.x) {
    const T gi = h.decay ? t.g[i] + h.wd * t.p[i] : t.g[i];
    const T v = t.square_avg[i] * h.alpha + h.one_minus_alpha * gi * gi;
    t.square_avg[i] = v;
    T avg;
    if (t.grad_avg) {
      const T a = t.grad_avg[i] * h.alpha + h.one_minus_alpha * gi;
      t.grad_avg[i] = a;
      avg = sqrt(v - a * a) + h.eps;
    } else {
      avg = sqrt(v) + h.eps;
    }
    if (t.buf) {
      const T b = t.buf[i] * h.momentum + gi / avg;
      t.buf[i] = b;
      t.p[i] = t.p[i] + h.neg_lr * b;
    } else {
      t.p[i] = t.p[i] + h.neg_lr * gi / avg;
    }
  }
}

void cuda_adam(const AdamHyper& h, std::vector<AdamSlot>& slots) {
  if (slots.empty()) return;
  const Device device = slots[0].param.device();
  const DType dtype = slots[0].param.dtype();
  check_device(device, "adam");
  dispatch_floating(dtype, "adam", [&](auto tag) {
    using T = typename decltype(tag)::type;
    std::vector<AdamTensor<T>> tensors;
    std::vector<int64_t> sizes;
    for (AdamSlot& s : slots) {
      check_slot_tensor(s.param, s.param, "adam", "param");  // parameters may differ in shape
      for (const auto& [t, name] : {std::pair<const Tensor*, const char*>{&s.grad, "grad"}, {&s.exp_avg, "exp_avg"},
                                    {&s.exp_avg_sq, "exp_avg_sq"}})
        check_slot_tensor(*t, s.param, "adam", name);
      if (h.amsgrad) check_slot_tensor(s.max_exp_avg_sq, s.param, "adam", "max_exp_avg_sq");
      GANTRY_CHECK(s.param.device() == device && s.param.dtype() == dtype, "adam: all parameters must share one device "
                   "and dtype");
      const double t = static_cast<double>(s.step);
      tensors.push_back(AdamTensor<T>{s.param.data_ptr<T>(), s.exp_avg.data_ptr<T>(), s.exp_avg_sq.data_ptr<T>(),
                                      h.amsgrad ? s.max_exp_avg_sq.data_ptr<T>() : nullptr, s.grad.data_ptr<T>(),
                                      static_cast<T>(-(h.lr / (1.0 - std::pow(h.beta1, t)))),
                                      static_cast<T>(std::sqrt(1.0 - std::pow(h.beta2, t)))});
      sizes.push_back(s.param.numel());
    }
    const AdamScalars<T> scalars{static_cast<T>(h.weight_decay), static_cast<T>(h.beta1), static_cast<T>(1.0 - h.beta1),
                                 static_cast<T>(h.beta2),        static_cast<T>(1.0 - h.beta2), static_cast<T>(h.eps),
                                 h.weight_decay != 0};
    run_multi_tensor(tensors, sizes, device,
                     [&](const TensorChunk* chunks, const AdamTensor<T>* table, unsigned n, cudaStream_t stream) {
                       GANTRY_LAUNCH(n, kMultiTensorThreads, 0, stream, adam_multi_tensor<T>)(chunks, table, scalars);
                     });
  });
}

void cuda_sgd(const SGDHyper& h, std::vector<SGDSlot>& slots) {
  if (slots.empty()) return;
  const Device device = slots[0].param.device();
  const DType dtype = slots[0].param.dtype();
  check_device(device, "sgd");
  dispatch_floating(dtype, "sgd", [&](auto tag) {
    using T = typename decltype(tag)::type;
    std::vector<SgdTensor<T>> tensors;
    std::vector<int64_t> sizes;
    for (SGDSlot& s : slots) {
      check_slot_tensor(s.param, s.param, "sgd", "param");
      check_slot_tensor(s.grad, s.param, "sgd", "grad");
      if (h.momentum != 0) check_slot_tensor(s.momentum_buffer, s.param, "sgd", "momentum_buffer");
      tensors.push_back(SgdTensor<T>{s.param.data_ptr<T>(), h.momentum != 0 ? s.momentum_buffer.data_ptr<T>() : nullptr,
                                     s.grad.data_ptr<T>(), s.first_step});
      sizes.push_back(s.param.numel());
    }
    const SgdScalars<T> scalars{static_cast<T>(h.weight_decay), static_cast<T>(h.momentum),
                                static_cast<T>(1.0 - h.dampening), static_cast<T>(-h.lr), h.weight_decay != 0,
                                h.nesterov};
    run_multi_tensor(tensors, sizes, device,
                     [&](const TensorChunk* chunks, const SgdTensor<T>* table, unsigned n, cudaStream_t stream) {
                       GANTRY_LAUNCH(n, kMultiTensorThreads, 0, stream, sgd_multi_tensor<T>)(chunks, table, scalars);
                     });
  });
}

void cuda_rmsprop(const RMSpropHyper& h, std::vector<RMSpropSlot>& slots) {
  if (slots.empty()) return;
  const Device device = slots[0].param.device();
  const DType dtype = slots[0].param.dtype();
  check_device(device, "rmsprop");
  const bool momentum = h.momentum > 0;
  dispatch_floating(dtype, "rmsprop", [&](auto tag) {
    using T = typename decltype(tag)::type;
    std::vector<RMSpropTensor<T>> tensors;
    std::vector<int64_t> sizes;
    for (RMSpropSlot& s : slots) {
      GANTRY_CHECK(s.param.device() == device && s.param.dtype() == dtype,
                   "rmsprop: all parameters must share one device and dtype");
      check_slot_tensor(s.param, s.param, "rmsprop", "param");
      check_slot_tensor(s.grad, s.param, "rmsprop", "grad");
      check_slot_tensor(s.square_avg, s.param, "rmsprop", "square_avg");
      if (h.centered) check_slot_tensor(s.grad_avg, s.param, "rmsprop", "grad_avg");
      if (momentum) check_slot_tensor(s.momentum_buffer, s.param, "rmsprop", "momentum_buffer");
      tensors.push_back(RMSpropTensor<T>{s.param.data_ptr<T>(), s.square_avg.data_ptr<T>(),
                                         h.centered ? s.grad_avg.data_ptr<T>() : nullptr,
                                         momentum ? s.momentum_buffer.data_ptr<T>() : nullptr, s.grad.data_ptr<T>()});
      sizes.push_back(s.param.numel());
    }
    const RMSpropScalars<T> scalars{static_cast<T>(h.weight_decay),
                                    static_cast<T>(h.alpha),
                                    static_cast<T>(1.0 - h.alpha),
                                    static_cast<T>(h.eps),
                                    static_cast<T>(h.momentum),
                                    static_cast<T>(-h.lr),
                                    h.weight_decay != 0};
    run_multi_tensor(tensors, sizes, device,
                     [&](const TensorChunk* chunks, const RMSpropTensor<T>* table, unsigned n, cudaStream_t stream) {
                       GANTRY_LAUNCH(n, kMultiTensorThreads, 0, stream, rmsprop_multi_tensor<T>)
                       (chunks, table, scalars);
                     });
  });
}

}  // namespace

GANTRY_REGISTER_KERNEL(adam_kernel, CUDA, &cuda_adam);
GANTRY_REGISTER_KERNEL(sgd_kernel, CUDA, &cuda_sgd);
GANTRY_REGISTER_KERNEL(rmsprop_kernel, CUDA, &cuda_rmsprop);

}  // namespace gantry::cuda
