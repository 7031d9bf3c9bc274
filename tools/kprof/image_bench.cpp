// gantry-kprof's image-kernel benchmarks (see image_bench.h). Every record: the CPU backend computes
// the reference on identical inputs, the CUDA op runs in the precision under test, and only a match
// is timed (KernelTimer: warm-up, CUDA events, L2 flushed, median). The cuDNN baseline runs on the same
// device buffers with the algorithm its heuristics rank first for the same math: CUDNN_FMA_MATH for
// exact f32 (CUDNN_DEFAULT_MATH would let cuDNN use TF32 on Hopper), CUDNN_TENSOR_OP_MATH for TF32,
// and BF16 tensors with f32 compute for BF16 (our kernels read f32 and round while staging, cuDNN
// reads BF16: it moves half the bytes, which the ratio includes).
#include "tools/kprof/image_bench.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/ops/nn_ops.h"
#include "engine/ops/ops.h"
#include "engine/random/generator.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/runtime.h"
#include "tools/kprof/timer.h"

#if defined(GANTRY_KPROF_CUDNN)
// cuDNN 9 marks the descriptor API deprecated (in favour of its graph API); it is still the direct
// way to ask the heuristics for one convolution.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <cudnn.h>
#endif

namespace gantry::kprof {
namespace {

const Device kGpu(DeviceType::CUDA, 0);
using cuda::MatmulPrecision;

struct ImageRecord {
  std::string kernel, model, shape, precision, unit;
  bool passed = false;
  double max_rel_error = 0, ms = 0, rate = 0;
  std::string baseline;  // what baseline_ms measured ("cuDNN <algo>", "composite ops"), empty if none
  double baseline_ms = 0, ratio = 0;  // ratio = baseline_ms / ms: > 1 means faster than the baseline
};

double rel_error(const Tensor& got, const Tensor& want) {
  const std::vector<double> g = to_vector<double>(got.to(kCPU)), w = to_vector<double>(want.to(kCPU));
  if (g.size() != w.size()) return INFINITY;
  double err = 0, scale = 1e-30;
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(g[i]) != std::isnan(w[i])) return INFINITY;
    err = std::max(err, std::abs(g[i] - w[i]));
    scale = std::max(scale, std::abs(w[i]));
  }
  return err / scale;
}

Tensor host_random(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return uniform(shape, -1, 1, gen, DType::f32, kCPU);
}

double tolerance(MatmulPrecision p) {
  return p == MatmulPrecision::exact ? 1e-4 : p == MatmulPrecision::tf32 ? 5e-3 : 3e-2;
}

std::string dims(std::initializer_list<int64_t> d) {
  std::string s;
  for (int64_t v : d) s += (s.empty() ? "" : "x") + std::to_string(v);
  return s;
}

// Device bf16 copy of a host f32 tensor (for cuDNN's BF16 runs); freed by the owner.
void* upload_bf16(const Tensor& host) {
  const std::vector<float> v = to_vector<float>(host);
  std::vector<__nv_bfloat16> h(v.size());
  for (size_t i = 0; i < v.size(); ++i) h[i] = __float2bfloat16(v[i]);
  void* d = nullptr;
  GANTRY_CUDA_CHECK(cudaMalloc(&d, std::max<size_t>(1, h.size() * sizeof(__nv_bfloat16))));
  GANTRY_CUDA_CHECK(cudaMemcpy(d, h.data(), h.size() * sizeof(__nv_bfloat16), cudaMemcpyHostToDevice));
  GANTRY_CUDA_CHECK(cudaDeviceSynchronize());  // the engine's stream does not order after the legacy one
  return d;
}

// ---- the shapes ----

enum class ConvPass { forward, input_grad, weight_grad, transposed };

const char* pass_name(ConvPass p) {
  switch (p) {
    case ConvPass::forward: return "conv2d_fprop";
    case ConvPass::input_grad: return "conv2d_dgrad";
    case ConvPass::weight_grad: return "conv2d_wgrad";
    case ConvPass::transposed: return "conv_transpose2d";
  }
  return "?";
}

// A convolution x [n, c, h, w] * w [o, c, kh, kw] -> [n, o, oh, ow]. A transposed convolution is
// given as the convolution whose input gradient it is (its output is x's shape, its input the
// convolution's output, its weight [o, c, kh, kw] = [in_channels, out_channels, kh, kw]).
struct ConvSpec {
  std::string model, layer;
  int64_t n, c, h, w, o, kh, kw;
  Size2 stride, pad;
  std::vector<ConvPass> passes;
  int64_t oh() const { return (h + 2 * pad[0] - kh) / stride[0] + 1; }
  int64_t ow() const { return (w + 2 * pad[1] - kw) / stride[1] + 1; }
  double flops() const { return 2.0 * n * o * oh() * ow() * c * kh * kw; }
};

std::vector<ConvSpec> conv_specs(bool quick) {
  const std::vector<ConvPass> train = {ConvPass::forward, ConvPass::input_grad, ConvPass::weight_grad};
  const std::vector<ConvPass> upsample = {ConvPass::transposed, ConvPass::forward, ConvPass::weight_grad};
  const std::vector<ConvPass> infer = {ConvPass::forward};
  std::vector<ConvSpec> specs;
  std::vector<int64_t> batches = {64};
  if (!quick) batches.push_back(128);
  for (int64_t b : batches) {
    // SNGAN/SAGAN ResNet (CIFAR 32x32) and DCGAN critic/generator.
    specs.push_back({"ResNet G/D", "rgb 3->64 k3", b, 3, 32, 32, 64, 3, 3, {1, 1}, {1, 1}, train});
    specs.push_back({"ResNet G/D", "128->128 k3 @32", b, 128, 32, 32, 128, 3, 3, {1, 1}, {1, 1}, train});
    specs.push_back({"ResNet G/D", "128->128 k3 @16", b, 128, 16, 16, 128, 3, 3, {1, 1}, {1, 1}, train});
    specs.push_back({"ResNet G/D", "256->256 k3 @8", b, 256, 8, 8, 256, 3, 3, {1, 1}, {1, 1}, train});
    specs.push_back({"ResNet D", "shortcut 128->128 k1 @16", b, 128, 16, 16, 128, 1, 1, {1, 1}, {0, 0}, train});
    specs.push_back({"DCGAN D", "3->64 k4 s2 @32", b, 3, 32, 32, 64, 4, 4, {2, 2}, {1, 1}, train});
    specs.push_back({"DCGAN D", "64->128 k4 s2 @16", b, 64, 16, 16, 128, 4, 4, {2, 2}, {1, 1}, train});
    specs.push_back({"DCGAN D", "128->256 k4 s2 @8", b, 128, 8, 8, 256, 4, 4, {2, 2}, {1, 1}, train});
    // Generator upsampling: conv_transpose2d(x [b, 256, 4, 4], w [256, 128, 4, 4]) -> [b, 128, 8, 8] is the
    // input gradient of a conv [b, 128, 8, 8] -> [b, 256, 4, 4].
    specs.push_back({"DCGAN G", "up 256->128 k4 s2 @4", b, 128, 8, 8, 256, 4, 4, {2, 2}, {1, 1}, upsample});
    specs.push_back({"DCGAN G", "up 128->64 k4 s2 @8", b, 64, 16, 16, 128, 4, 4, {2, 2}, {1, 1}, upsample});
    specs.push_back({"DCGAN G", "up 64->3 k4 s2 @16", b, 3, 32, 32, 64, 4, 4, {2, 2}, {1, 1}, upsample});
  }
  // FID Inception-v3 (inference only), pytorch-fid's batch of 50.
  const int64_t b = quick ? 32 : 50;
  specs.push_back({"FID Inception", "Conv2d_1a 3->32 k3 s2 @299", b, 3, 299, 299, 32, 3, 3, {2, 2}, {0, 0}, infer});
  specs.push_back({"FID Inception", "Conv2d_2a 32->32 k3 @149", b, 32, 149, 149, 32, 3, 3, {1, 1}, {0, 0}, infer});
  specs.push_back({"FID Inception", "Conv2d_2b 32->64 k3 @147", b, 32, 147, 147, 64, 3, 3, {1, 1}, {1, 1}, infer});
  specs.push_back({"FID Inception", "Conv2d_4a 80->192 k3 @73", b, 80, 73, 73, 192, 3, 3, {1, 1}, {0, 0}, infer});
  specs.push_back({"FID Inception", "Mixed_5b 1x1 192->64 @35", b, 192, 35, 35, 64, 1, 1, {1, 1}, {0, 0}, infer});
  specs.push_back({"FID Inception", "Mixed_5b 5x5 48->64 @35", b, 48, 35, 35, 64, 5, 5, {1, 1}, {2, 2}, infer});
  specs.push_back({"FID Inception", "Mixed_5b 3x3 64->96 @35", b, 64, 35, 35, 96, 3, 3, {1, 1}, {1, 1}, infer});
  specs.push_back({"FID Inception", "Mixed_6b 1x1 768->192 @17", b, 768, 17, 17, 192, 1, 1, {1, 1}, {0, 0}, infer});
  specs.push_back({"FID Inception", "Mixed_6b 1x7 128->128 @17", b, 128, 17, 17, 128, 1, 7, {1, 1}, {0, 3}, infer});
  specs.push_back({"FID Inception", "Mixed_6b 7x1 128->192 @17", b, 128, 17, 17, 192, 7, 1, {1, 1}, {3, 0}, infer});
  if (!quick) {
    specs.push_back({"FID Inception", "Mixed_7b 1x3 384->384 @8", b, 384, 8, 8, 384, 1, 3, {1, 1}, {0, 1}, infer});
    specs.push_back({"FID Inception", "Mixed_7c 1x1 2048->320 @8", b, 2048, 8, 8, 320, 1, 1, {1, 1}, {0, 0}, infer});
  }
  return specs;
}

// The same layer at a size the CPU emulator checks in seconds: batch 2, the spatial size and the
// channels capped (kernel, stride and padding kept, so edge handling is still exercised).
ConvSpec shrunk(ConvSpec s) {
  s.n = 2;
  s.h = std::min<int64_t>(s.h, std::max<int64_t>(13, s.kh));
  s.w = std::min<int64_t>(s.w, std::max<int64_t>(13, s.kw));
  s.c = std::min<int64_t>(s.c, 40);
  s.o = std::min<int64_t>(s.o, 36);
  // The name then says what runs, in the full layers' notation.
  s.layer = (s.layer.rfind("up ", 0) == 0 ? "up " : "") + std::to_string(s.c) + "->" + std::to_string(s.o) + " k" +
            (s.kh == s.kw ? std::to_string(s.kh) : std::to_string(s.kh) + "x" + std::to_string(s.kw)) +
            (s.stride[0] > 1 ? " s" + std::to_string(s.stride[0]) : "") + " @" + std::to_string(s.h);
  return s;
}

enum class PoolKind { avg, avg_backward, max };

struct PoolSpec {
  std::string model, layer;
  PoolKind kind;
  int64_t n, c, h, w;
  Size2 k, s, p;
  bool count_pad;
  int64_t oh() const { return (h + 2 * p[0] - k[0]) / s[0] + 1; }
  int64_t ow() const { return (w + 2 * p[1] - k[1]) / s[1] + 1; }
};

// The window kept; batch 2, at most 24 channels, and (unless the pooling is global) at most 15x15.
PoolSpec shrunk(PoolSpec s) {
  s.n = 2;
  s.c = std::min<int64_t>(s.c, 24);
  if (s.k[0] < s.h) s.h = s.w = std::min<int64_t>(s.h, 15);
  s.layer = s.layer.substr(0, s.layer.find(" @")) + " @" + std::to_string(s.h) + " C" + std::to_string(s.c);
  return s;
}

std::vector<PoolSpec> pool_specs(bool quick) {
  const int64_t g = 64, b = quick ? 32 : 50;
  return {
      {"ResNet D", "avg 2x2 @32 C128", PoolKind::avg, g, 128, 32, 32, {2, 2}, {2, 2}, {0, 0}, true},
      {"ResNet D", "avg 2x2 @32 C128", PoolKind::avg_backward, g, 128, 32, 32, {2, 2}, {2, 2}, {0, 0}, true},
      {"BigGAN attention", "max 2x2 @32 C16", PoolKind::max, g, 16, 32, 32, {2, 2}, {2, 2}, {0, 0}, false},
      {"FID Inception", "max 3x3 s2 @147 C64", PoolKind::max, b, 64, 147, 147, {3, 3}, {2, 2}, {0, 0}, false},
      {"FID Inception", "max 3x3 s2 @71 C192", PoolKind::max, b, 192, 71, 71, {3, 3}, {2, 2}, {0, 0}, false},
      {"FID Inception", "avg 3x3 s1 p1 @35 C192", PoolKind::avg, b, 192, 35, 35, {3, 3}, {1, 1}, {1, 1}, false},
      {"FID Inception", "avg 3x3 s1 p1 @17 C768", PoolKind::avg, b, 768, 17, 17, {3, 3}, {1, 1}, {1, 1}, false},
      {"FID Inception", "global avg @8 C2048", PoolKind::avg, b, 2048, 8, 8, {8, 8}, {8, 8}, {0, 0}, false},
  };
}

struct AttentionSpec {
  std::string model, layer;
  int64_t b, lq, lk, d, dv;
};

// Head sizes kept; batch 2, at most 70 queries and 66 keys (the shape column prints the sizes run).
AttentionSpec shrunk(AttentionSpec s) {
  s.b = 2;
  s.lq = std::min<int64_t>(s.lq, 70);
  s.lk = std::min<int64_t>(s.lk, 66);
  return s;
}

std::vector<AttentionSpec> attention_specs() {
  return {
      {"SAGAN", "16x16 C256 (d C/8, v C)", 64, 256, 256, 32, 256},
      {"SAGAN", "32x32 C64 (d C/8, v C)", 64, 1024, 1024, 8, 64},
      {"BigGAN", "32x32 C128 pooled k/v (d C/8, v C/2)", 64, 1024, 256, 16, 64},
  };
}

#if defined(GANTRY_KPROF_CUDNN)

#define KPROF_CUDNN_CHECK(call)                                                                     \
  do {                                                                                              \
    const cudnnStatus_t status_ = (call);                                                           \
    GANTRY_CHECK(status_ == CUDNN_STATUS_SUCCESS, "cuDNN call ", #call, " failed at ", __FILE__, ":", \
                 __LINE__, ": ", cudnnGetErrorString(status_));                                     \
  } while (0)

class Cudnn {
 public:
  explicit Cudnn(cudaStream_t stream) {
    KPROF_CUDNN_CHECK(cudnnCreate(&handle_));
    KPROF_CUDNN_CHECK(cudnnSetStream(handle_, stream));
  }
  ~Cudnn() { cudnnDestroy(handle_); }
  Cudnn(const Cudnn&) = delete;
  Cudnn& operator=(const Cudnn&) = delete;
  cudnnHandle_t handle() const { return handle_; }

 private:
  cudnnHandle_t handle_ = nullptr;
};

struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  TensorDesc(int64_t n, int64_t c, int64_t h, int64_t w, cudnnDataType_t type) {
    KPROF_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d));
    KPROF_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, type, static_cast<int>(n), static_cast<int>(c),
                                                 static_cast<int>(h), static_cast<int>(w)));
  }
  ~TensorDesc() { cudnnDestroyTensorDescriptor(d); }
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
};

// The convolution of a spec on given device buffers (f32, or bf16 for MatmulPrecision::bf16).
class CudnnConv {
 public:
  CudnnConv(cudnnHandle_t h, const ConvSpec& s, MatmulPrecision precision)
      : h_(h),
        type_(precision == MatmulPrecision::bf16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT),
        x_(s.n, s.c, s.h, s.w, type_),
        y_(s.n, s.o, s.oh(), s.ow(), type_) {
    KPROF_CUDNN_CHECK(cudnnCreateFilterDescriptor(&w_));
    KPROF_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w_, type_, CUDNN_TENSOR_NCHW, static_cast<int>(s.o),
                                                 static_cast<int>(s.c), static_cast<int>(s.kh), static_cast<int>(s.kw)));
    KPROF_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv_));
    KPROF_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv_, static_cast<int>(s.pad[0]), static_cast<int>(s.pad[1]),
                                                      static_cast<int>(s.stride[0]), static_cast<int>(s.stride[1]), 1,
                                                      1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    KPROF_CUDNN_CHECK(cudnnSetConvolutionMathType(
        conv_, precision == MatmulPrecision::exact ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH));
  }
  ~CudnnConv() {
    cudnnDestroyConvolutionDescriptor(conv_);
    cudnnDestroyFilterDescriptor(w_);
    (void)cudaFree(workspace_);
  }
  CudnnConv(const CudnnConv&) = delete;
  CudnnConv& operator=(const CudnnConv&) = delete;

  // Median ms of the pass with the heuristics' first working algorithm; < 0 when cuDNN offers none.
  // x, w, y are the forward's operands (for the input gradient y is dy and x receives dx; for the
  // weight gradient w receives dw).
  double time(ConvPass pass, KernelTimer& timer, void* x, void* w, void* y, std::string& algo_name) {
    const float one = 1, zero = 0;
    std::function<void()> call;
    size_t bytes = 0;
    int returned = 0;
    if (pass == ConvPass::forward) {
      cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
      KPROF_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h_, x_.d, w_, conv_, y_.d,
                                                               CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned, perf));
      const int i = first_ok(perf, returned);
      if (i < 0) return -1;
      const cudnnConvolutionFwdAlgo_t algo = perf[i].algo;
      KPROF_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h_, x_.d, w_, conv_, y_.d, algo, &bytes));
      reserve(bytes);
      algo_name = "fwd algo " + std::to_string(static_cast<int>(algo));
      call = [=, this] {
        KPROF_CUDNN_CHECK(cudnnConvolutionForward(h_, &one, x_.d, x, w_, w, conv_, algo, workspace_, bytes, &zero,
                                                  y_.d, y));
      };
    } else if (pass == ConvPass::input_grad || pass == ConvPass::transposed) {
      cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
      KPROF_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(
          h_, w_, y_.d, conv_, x_.d, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &returned, perf));
      const int i = first_ok(perf, returned);
      if (i < 0) return -1;
      const cudnnConvolutionBwdDataAlgo_t algo = perf[i].algo;
      KPROF_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(h_, w_, y_.d, conv_, x_.d, algo, &bytes));
      reserve(bytes);
      algo_name = "bwd-data algo " + std::to_string(static_cast<int>(algo));
      call = [=, this] {
        KPROF_CUDNN_CHECK(cudnnConvolutionBackwardData(h_, &one, w_, w, y_.d, y, conv_, algo, workspace_, bytes, &zero,
                                                       x_.d, x));
      };
    } else {
      cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
      KPROF_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
          h_, x_.d, y_.d, conv_, w_, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &returned, perf));
      const int i = first_ok(perf, returned);
      if (i < 0) return -1;
      const cudnnConvolutionBwdFilterAlgo_t algo = perf[i].algo;
      KPROF_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(h_, x_.d, y_.d, conv_, w_, algo, &bytes));
      reserve(bytes);
      algo_name = "bwd-filter algo " + std::to_string(static_cast<int>(algo));
      call = [=, this] {
        KPROF_CUDNN_CHECK(cudnnConvolutionBackwardFilter(h_, &one, x_.d, x, y_.d, y, conv_, algo, workspace_, bytes,
                                                         &zero, w_, w));
      };
    }
    return timer.median_ms(call);
  }

 private:
  template <typename Perf>
  static int first_ok(const Perf* perf, int n) {
    for (int i = 0; i < n; ++i)
      if (perf[i].status == CUDNN_STATUS_SUCCESS) return i;
    return -1;
  }
  void reserve(size_t bytes) {
    if (bytes <= workspace_bytes_) return;
    (void)cudaFree(workspace_);
    workspace_ = nullptr;
    GANTRY_CUDA_CHECK(cudaMalloc(&workspace_, bytes));
    workspace_bytes_ = bytes;
  }

  cudnnHandle_t h_;
  cudnnDataType_t type_;
  TensorDesc x_, y_;
  cudnnFilterDescriptor_t w_ = nullptr;
  cudnnConvolutionDescriptor_t conv_ = nullptr;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
};

// Median ms of cuDNN's pooling (forward, or the average's backward) on f32 device buffers.
double time_cudnn_pool(cudnnHandle_t h, const PoolSpec& s, KernelTimer& timer, const void* x, void* y, const void* dy,
                       void* dx) {
  const TensorDesc xd(s.n, s.c, s.h, s.w, CUDNN_DATA_FLOAT), yd(s.n, s.c, s.oh(), s.ow(), CUDNN_DATA_FLOAT);
  cudnnPoolingDescriptor_t pd = nullptr;
  KPROF_CUDNN_CHECK(cudnnCreatePoolingDescriptor(&pd));
  const cudnnPoolingMode_t mode = s.kind == PoolKind::max ? CUDNN_POOLING_MAX
                                  : s.count_pad           ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                                          : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
  KPROF_CUDNN_CHECK(cudnnSetPooling2dDescriptor(pd, mode, CUDNN_PROPAGATE_NAN, static_cast<int>(s.k[0]),
                                                static_cast<int>(s.k[1]), static_cast<int>(s.p[0]),
                                                static_cast<int>(s.p[1]), static_cast<int>(s.s[0]),
                                                static_cast<int>(s.s[1])));
  const float one = 1, zero = 0;
  double ms = 0;
  if (s.kind == PoolKind::avg_backward) {
    KPROF_CUDNN_CHECK(cudnnPoolingForward(h, pd, &one, xd.d, x, &zero, yd.d, y));
    ms = timer.median_ms([&] {
      KPROF_CUDNN_CHECK(cudnnPoolingBackward(h, pd, &one, yd.d, y, yd.d, dy, xd.d, x, &zero, xd.d, dx));
    });
  } else {
    ms = timer.median_ms([&] { KPROF_CUDNN_CHECK(cudnnPoolingForward(h, pd, &one, xd.d, x, &zero, yd.d, y)); });
  }
  cudnnDestroyPoolingDescriptor(pd);
  return ms;
}

#endif  // GANTRY_KPROF_CUDNN

class ImageProfiler {
 public:
  explicit ImageProfiler(const ImageBenchOptions& o) : options_(o), timer_(0, o.warmup, o.runs) {
#if defined(GANTRY_KPROF_CUDNN)
    cudnn_ = std::make_unique<Cudnn>(timer_.stream());
#endif
  }

  void run() {
    NoGradGuard no_grad;
    const MatmulPrecision saved = cuda::matmul_precision();
    uint64_t seed = 1000;
    for (const ConvSpec& s : conv_specs(options_.quick)) profile_conv(options_.check_only ? shrunk(s) : s, seed += 10);
    cuda::set_matmul_precision(MatmulPrecision::exact);
    for (const PoolSpec& s : pool_specs(options_.quick)) profile_pool(options_.check_only ? shrunk(s) : s, seed += 10);
    for (const AttentionSpec& s : attention_specs()) {
      profile_attention(options_.check_only ? shrunk(s) : s, seed += 10);
    }
    cuda::set_matmul_precision(saved);
  }

  void print() const {
#if defined(GANTRY_KPROF_CUDNN)
    const char* baseline = "x base";
#else
    const char* baseline = "x base (no cuDNN in this build)";
#endif
    if (options_.check_only) {
      std::printf("\nimage kernels, checked against the CPU at shrunk sizes (batch 2, at most 13x13, 40 channels)\n");
      std::printf("%-17s %-15s %-36s %-5s %-5s %9s\n", "kernel", "model", "shape", "prec", "check", "rel.err");
    } else {
      std::printf("\nimage kernels (x base > 1: faster than the baseline)\n");
      std::printf("%-17s %-15s %-36s %-5s %-5s %9s %9s %-8s %8s %8s  %s\n", "kernel", "model", "shape", "prec", "check",
                  "rel.err", "ms", "unit", "rate", baseline, "baseline");
    }
    for (const ImageRecord& r : records_) {
      std::printf("%-17s %-15s %-36s %-5s %-5s %9.2e ", r.kernel.c_str(), r.model.c_str(), r.shape.c_str(),
                  r.precision.c_str(), r.passed ? "ok" : "FAIL", r.max_rel_error);
      if (r.passed && !options_.check_only) {
        std::printf("%9.4f %-8s %8.2f ", r.ms, r.unit.c_str(), r.rate);
        if (r.ratio > 0) std::printf("%8.2f  %s", r.ratio, r.baseline.c_str());
      }
      std::printf("\n");
    }
  }

  nlohmann::json to_json() const {
    nlohmann::json j = nlohmann::json::array();
    for (const ImageRecord& r : records_)
      j.push_back({{"kernel", r.kernel}, {"model", r.model}, {"shape", r.shape}, {"precision", r.precision},
                   {"passed", r.passed}, {"max_rel_error", r.max_rel_error}, {"ms", r.ms}, {"unit", r.unit},
                   {"rate", r.rate}, {"baseline", r.baseline}, {"baseline_ms", r.baseline_ms}, {"ratio", r.ratio}});
    return j;
  }

  bool all_passed() const {
    return std::all_of(records_.begin(), records_.end(), [](const ImageRecord& r) { return r.passed; });
  }

 private:
  void profile_conv(const ConvSpec& s, uint64_t seed) {
    const Tensor x = host_random({s.n, s.c, s.h, s.w}, seed), w = host_random({s.o, s.c, s.kh, s.kw}, seed + 1);
    const Tensor g = host_random({s.n, s.o, s.oh(), s.ow()}, seed + 2);
    const Tensor xd = x.to(kGpu), wd = w.to(kGpu), gd = g.to(kGpu);
    const Size2 in_hw{s.h, s.w}, k_hw{s.kh, s.kw};
    const std::string shape = s.layer + " b" + std::to_string(s.n);
    for (ConvPass pass : s.passes) {
      std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)> op;
      switch (pass) {
        case ConvPass::forward:
          op = [&](const Tensor& a, const Tensor& b, const Tensor&) { return conv2d(a, b, Tensor(), s.stride, s.pad); };
          break;
        case ConvPass::input_grad:
        case ConvPass::transposed:
          op = [&](const Tensor&, const Tensor& b, const Tensor& c) {
            return conv2d_input_grad(c, b, in_hw, s.stride, s.pad);
          };
          break;
        case ConvPass::weight_grad:
          op = [&](const Tensor& a, const Tensor&, const Tensor& c) {
            return conv2d_weight_grad(a, c, k_hw, s.stride, s.pad);
          };
          break;
      }
      const Tensor reference = op(x, w, g);
      for (MatmulPrecision precision : {MatmulPrecision::exact, MatmulPrecision::tf32, MatmulPrecision::bf16}) {
        cuda::set_matmul_precision(precision);
        ImageRecord r;
        r.kernel = pass_name(pass);
        r.model = s.model;
        r.shape = shape;
        r.precision = cuda::matmul_precision_name(precision);
        r.unit = "TFLOP/s";
        r.max_rel_error = rel_error(op(xd, wd, gd), reference);
        r.passed = r.max_rel_error <= tolerance(precision);
        if (r.passed && !options_.check_only) {
          r.ms = timer_.median_ms([&] { (void)op(xd, wd, gd); });
          r.rate = s.flops() / (r.ms * 1e9);
          time_cudnn_conv(s, pass, precision, x, w, g, r);
        }
        records_.push_back(r);
      }
    }
  }

  void time_cudnn_conv(const ConvSpec& s, ConvPass pass, MatmulPrecision precision, const Tensor& x, const Tensor& w,
                       const Tensor& g, ImageRecord& r) {
#if defined(GANTRY_KPROF_CUDNN)
    // Own buffers: cuDNN writes its result into one of them.
    void *xb = nullptr, *wb = nullptr, *yb = nullptr;
    if (precision == MatmulPrecision::bf16) {
      xb = upload_bf16(x);
      wb = upload_bf16(w);
      yb = upload_bf16(g);
    } else {
      for (auto [dst, src] : {std::pair<void**, const Tensor*>{&xb, &x}, {&wb, &w}, {&yb, &g}}) {
        GANTRY_CUDA_CHECK(cudaMalloc(dst, std::max<size_t>(4, src->numel() * sizeof(float))));
        GANTRY_CUDA_CHECK(cudaMemcpy(*dst, src->data_ptr<float>(), src->numel() * sizeof(float), cudaMemcpyHostToDevice));
      }
      GANTRY_CUDA_CHECK(cudaDeviceSynchronize());
    }
    try {
      CudnnConv conv(cudnn_->handle(), s, precision);
      std::string algo;
      const double ms = conv.time(pass, timer_, xb, wb, yb, algo);
      if (ms > 0) {
        r.baseline = "cuDNN " + algo;
        r.baseline_ms = ms;
        r.ratio = ms / r.ms;
      } else {
        r.baseline = "cuDNN: no algorithm";
      }
    } catch (const std::exception& e) {
      r.baseline = std::string("cuDNN failed: ") + e.what();
    }
    (void)cudaFree(xb);
    (void)cudaFree(wb);
    (void)cudaFree(yb);
#else
    (void)s, (void)pass, (void)precision, (void)x, (void)w, (void)g, (void)r;
#endif
  }

  void profile_pool(const PoolSpec& s, uint64_t seed) {
    const Tensor x = host_random({s.n, s.c, s.h, s.w}, seed), g = host_random({s.n, s.c, s.oh(), s.ow()}, seed + 1);
    const Tensor xd = x.to(kGpu), gd = g.to(kGpu);
    ImageRecord r;
    r.model = s.model;
    r.shape = s.layer + " b" + std::to_string(s.n);
    r.precision = "f32";
    r.unit = "GB/s";
    std::function<Tensor(const Tensor&, const Tensor&)> op;
    double bytes = 4.0 * (x.numel() + g.numel());
    switch (s.kind) {
      case PoolKind::avg:
        r.kernel = "avg_pool2d";
        op = [&](const Tensor& a, const Tensor&) { return avg_pool2d(a, s.k, s.s, s.p, s.count_pad); };
        break;
      case PoolKind::avg_backward:
        r.kernel = "avg_pool2d_bwd";
        // The backward through autograd's rule: the avg_pool2d_backward kernel on g.
        op = [&](const Tensor& a, const Tensor& b) {
          const Tensor leaf = a.detach().set_requires_grad(true);
          autograd::GradModeGuard grad_on(true);
          return autograd::grad({avg_pool2d(leaf, s.k, s.s, s.p, s.count_pad)}, {leaf}, {b})[0];
        };
        break;
      case PoolKind::max:
        r.kernel = "max_pool2d";
        op = [&](const Tensor& a, const Tensor&) { return max_pool2d_with_indices(a, s.k, s.s, s.p).first; };
        bytes += 8.0 * g.numel();  // the int64 indices
        break;
    }
    r.max_rel_error = rel_error(op(xd, gd), op(x, g));
    r.passed = r.max_rel_error <= 1e-5;
    if (r.passed && !options_.check_only) {
      r.ms = timer_.median_ms([&] { (void)op(xd, gd); });
      r.rate = bytes / (r.ms * 1e6);
#if defined(GANTRY_KPROF_CUDNN)
      try {
        Tensor y = empty(g.shape(), DType::f32, kGpu), dx = empty(x.shape(), DType::f32, kGpu);
        const double ms = time_cudnn_pool(cudnn_->handle(), s, timer_, xd.raw_data(), y.raw_data(), gd.raw_data(),
                                          dx.raw_data());
        r.baseline = s.kind == PoolKind::max ? "cuDNN (no indices)" : "cuDNN";
        r.baseline_ms = ms;
        r.ratio = ms / r.ms;
      } catch (const std::exception& e) {
        r.baseline = std::string("cuDNN failed: ") + e.what();
      }
#endif
    }
    records_.push_back(r);
  }

  void profile_attention(const AttentionSpec& s, uint64_t seed) {
    const Tensor q = host_random({s.b, s.lq, s.d}, seed), k = host_random({s.b, s.lk, s.d}, seed + 1);
    const Tensor v = host_random({s.b, s.lk, s.dv}, seed + 2);
    const Tensor qd = q.to(kGpu), kd = k.to(kGpu), vd = v.to(kGpu);
    const double scale = 1.0 / std::sqrt(static_cast<double>(s.d));
    ImageRecord r;
    r.kernel = "attention_fwd";
    r.model = s.model;
    r.shape = s.layer + " " + dims({s.b, s.lq, s.lk, s.d, s.dv});
    r.precision = "f32";
    r.unit = "TFLOP/s";
    r.max_rel_error = rel_error(attention(qd, kd, vd, scale), attention(q, k, v, scale));
    r.passed = r.max_rel_error <= 1e-5;
    if (r.passed && !options_.check_only) {
      r.ms = timer_.median_ms([&] { (void)attention(qd, kd, vd, scale); });
      r.rate = 2.0 * s.b * s.lq * s.lk * (s.d + s.dv) / (r.ms * 1e9);
      // The same result from engine ops (exact GEMMs, softmax kernel, score matrix in memory).
      r.baseline_ms = timer_.median_ms([&] { (void)matmul(softmax(mul(matmul(qd, kd.transpose(1, 2)), scale), -1), vd); });
      r.baseline = "composite ops";
      r.ratio = r.baseline_ms / r.ms;
    }
    records_.push_back(r);
  }

  ImageBenchOptions options_;
  KernelTimer timer_;
#if defined(GANTRY_KPROF_CUDNN)
  std::unique_ptr<Cudnn> cudnn_;
#endif
  std::vector<ImageRecord> records_;
};

}  // namespace

nlohmann::json profile_image_kernels(const ImageBenchOptions& options, bool& all_passed) {
  ImageProfiler profiler(options);
  profiler.run();
  profiler.print();
  all_passed = profiler.all_passed();
  return profiler.to_json();
}

}  // namespace gantry::kprof

#if defined(GANTRY_KPROF_CUDNN)
#pragma GCC diagnostic pop
#endif
