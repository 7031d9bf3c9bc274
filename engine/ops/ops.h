#pragma once
// The engine's ops. Each op is declared here once and defined in one file of engine/ops/ (shape
// checks, the autograd rule), with its kernels behind the dispatch tables in kernels/<device>/.
// All ops are differentiable where that makes sense; binary ops broadcast with NumPy rules and
// require equal dtypes (no silent promotion) and equal devices.
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/core/tensor.h"

namespace gantry {

using DimList = std::vector<int64_t>;  // empty = all dims

// ---- factories (engine/ops/factory.cpp) ----
Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = kCPU);
Tensor ones(const Shape& shape, DType dtype = DType::f32, Device device = kCPU);
Tensor full(const Shape& shape, double value, DType dtype = DType::f32, Device device = kCPU);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
Tensor scalar_tensor(double value, DType dtype = DType::f32, Device device = kCPU);
Tensor arange(int64_t start, int64_t end, int64_t step = 1, DType dtype = DType::i64, Device device = kCPU);
Tensor eye(int64_t n, DType dtype = DType::f32, Device device = kCPU);
Tensor from_vector(const std::vector<float>& values, const Shape& shape, Device device = kCPU);
Tensor from_vector(const std::vector<double>& values, const Shape& shape, Device device = kCPU);
Tensor from_vector(const std::vector<int64_t>& values, const Shape& shape, Device device = kCPU);
template <typename T> std::vector<T> to_vector(const Tensor& t);  // float, double, int64_t, uint8_t

// ---- in-place (no autograd; refuse tensors that need grad while grad mode is on) ----
Tensor& fill_(Tensor& t, double value);
Tensor& zero_(Tensor& t);
Tensor& copy_(Tensor& dst, const Tensor& src);  // same shape (src may broadcast), dtype may differ

// ---- elementwise (engine/ops/elementwise.cpp) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, double b);
Tensor sub(const Tensor& a, double b);
Tensor rsub(double a, const Tensor& b);  // a - b
Tensor mul(const Tensor& a, double b);
Tensor div(const Tensor& a, double b);
Tensor rdiv(double a, const Tensor& b);  // a / b
Tensor neg(const Tensor& a);
Tensor pow(const Tensor& a, double exponent);
Tensor pow(const Tensor& a, const Tensor& exponent);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor abs(const Tensor& a);
Tensor sign(const Tensor& a);  // not differentiable (zero gradient)
Tensor clamp(const Tensor& a, std::optional<double> min, std::optional<double> max);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b);  // mask: u8, broadcasts
// Comparison masks (u8 0/1; not differentiable).
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, double b);
Tensor ge(const Tensor& a, double b);
Tensor lt(const Tensor& a, double b);
Tensor le(const Tensor& a, double b);
Tensor eq(const Tensor& a, double b);
Tensor ne(const Tensor& a, double b);

// ---- activations (engine/ops/activation.cpp) ----
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);

// ---- reductions (engine/ops/reduce.cpp) ----
Tensor sum(const Tensor& x, const DimList& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const DimList& dims = {}, bool keepdim = false);
Tensor amax(const Tensor& x, const DimList& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const DimList& dims = {}, bool keepdim = false);
// Values and i64 indices along one dim (the first index among ties).
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
// Variance with Bessel's correction by default (correction = 1), like torch.var.
Tensor var(const Tensor& x, const DimList& dims = {}, bool keepdim = false, int64_t correction = 1);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
// Reduces a broadcast gradient back to `shape` (the adjoint of expand).
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---- linear algebra (engine/ops/linalg.cpp) ----
// 1-D/2-D/batched (broadcast batch dims) matrix product through CBLAS on the CPU.
Tensor matmul(const Tensor& a, const Tensor& b);
// y = x W^T + b, W [out, in], b [out] (optional), x [..., in].
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
// L2 (p = 2) or general p-norm over dims.
Tensor norm(const Tensor& x, double p = 2.0, const DimList& dims = {}, bool keepdim = false);
// ||a_i - b_j||^2 for a [n, d], b [m, d] -> [n, m].
Tensor pairwise_sq_dist(const Tensor& a, const Tensor& b);

// ---- shape and indexing (engine/ops/shape_ops.cpp, engine/ops/index.cpp) ----
Tensor cat(const TensorList& tensors, int64_t dim = 0);
Tensor stack(const TensorList& tensors, int64_t dim = 0);
TensorList split(const Tensor& x, int64_t split_size, int64_t dim = 0);
TensorList chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);  // index: i64 1-D
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);        // torch.gather
// Adds src into zeros(shape) at index along dim (the adjoint of gather).
Tensor scatter_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& src);
// Largest (or smallest) k along dim; ties by lower index; values differentiable.
std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim = -1, bool largest = true);

// ---- softmax (engine/ops/softmax.cpp) ----
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

// ---- losses (engine/ops/loss.cpp); logits/critic outputs: higher = more real ----
enum class Reduction { mean, sum, none };
Tensor bce_with_logits(const Tensor& logits, const Tensor& target, Reduction r = Reduction::mean);
Tensor mse_loss(const Tensor& x, const Tensor& target, Reduction r = Reduction::mean);
// Non-saturating GAN losses: D: softplus(-real) + softplus(fake); G: softplus(-fake).
Tensor ns_d_loss(const Tensor& real_logits, const Tensor& fake_logits);
Tensor ns_g_loss(const Tensor& fake_logits);
// Hinge: D: relu(1 - real) + relu(1 + fake); G: -fake.
Tensor hinge_d_loss(const Tensor& real_scores, const Tensor& fake_scores);
Tensor hinge_g_loss(const Tensor& fake_scores);
// Wasserstein: D: fake - real; G: -fake.
Tensor wasserstein_d_loss(const Tensor& real_scores, const Tensor& fake_scores);
Tensor wasserstein_g_loss(const Tensor& fake_scores);

// ---- operators ----
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& a) { return neg(a); }
inline Tensor operator+(const Tensor& a, double b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, double b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, double b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, double b) { return div(a, b); }
inline Tensor operator+(double a, const Tensor& b) { return add(b, a); }
inline Tensor operator-(double a, const Tensor& b) { return rsub(a, b); }
inline Tensor operator*(double a, const Tensor& b) { return mul(b, a); }
inline Tensor operator/(double a, const Tensor& b) { return rdiv(a, b); }

}  // namespace gantry
