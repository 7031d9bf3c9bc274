// Fused CPU SGD update with PyTorch's semantics (torch.optim.SGD):
//   g = grad + wd * p;  buf = first ? g : momentum buf + (1 - dampening) g
//   g = nesterov ? g + momentum buf : buf   (when momentum != 0);  p = p - lr g
#include "engine/dispatch/optim_kernels.h"

namespace gantry::cpu {
namespace {

template <typename T>
void sgd_one(const SGDHyper& h, SGDSlot& s) {
  T* p = s.param.data_ptr<T>();
  const T* g = s.grad.data_ptr<T>();
  T* buf = h.momentum != 0 ? s.momentum_buffer.data_ptr<T>() : nullptr;
  const T wd = static_cast<T>(h.weight_decay), momentum = static_cast<T>(h.momentum);
  const T one_minus_dampening = static_cast<T>(1.0 - h.dampening), neg_lr = static_cast<T>(-h.lr);
  const int64_t n = s.param.numel();
  for (int64_t i = 0; i < n; ++i) {
    T d = h.weight_decay != 0 ? g[i] + wd * p[i] : g[i];
    if (buf) {
      buf[i] = s.first_step ? d : buf[i] * momentum + one_minus_dampening * d;
      d = h.nesterov ? d + momentum * buf[i] : buf[i];
    }
    p[i] = p[i] + neg_lr * d;
  }
}

void sgd(const SGDHyper& h, std::vector<SGDSlot>& slots) {
  for (SGDSlot& s : slots)
    dispatch_floating(s.param.dtype(), "sgd", [&](auto tag) { sgd_one<typename decltype(tag)::type>(h, s); });
}

}  // namespace

GANTRY_REGISTER_KERNEL(sgd_kernel, CPU, &sgd);

}  // namespace gantry::cpu
