// CPU 2-D convolution: one image at a time, unfold the receptive fields into a column matrix (im2col)
// and multiply with the weight through CBLAS; the input gradient multiplies the other way and folds the
// columns back (col2im). A 1x1 convolution with unit stride and no padding skips the unfolding: the
// image itself is the column matrix.
#include <cblas.h>

#include <algorithm>
#include <vector>

#include "engine/dispatch/conv_kernels.h"

namespace gantry::cpu {
namespace {

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
          int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a, lda,
              b, ldb, beta, c, ldc);
}

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
          int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0, a, lda,
              b, ldb, beta, c, ldc);
}

// Sizes of one convolution, read off the tensors.
struct ConvDims {
  int64_t n, c, h, w;     // input
  int64_t o, kh, kw;      // weight
  int64_t oh, ow;         // output
  int64_t patch() const { return c * kh * kw; }  // rows of the column matrix
  int64_t pixels() const { return oh * ow; }     // columns of the column matrix
};

ConvDims dims_of(const Tensor& x_like, const Tensor& w, const Tensor& out_like) {
  return {x_like.shape()[0], x_like.shape()[1], x_like.shape()[2], x_like.shape()[3], w.shape()[0],
          w.shape()[2],      w.shape()[3],      out_like.shape()[2], out_like.shape()[3]};
}

bool is_pointwise(const ConvDims& d, const Conv2dParams& p) {
  return d.kh == 1 && d.kw == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_h == 0 && p.pad_w == 0;
}

// Walks every (patch row, output pixel) pair with its input position; `visit(col_index, x_index)`
// receives x_index = -1 where the receptive field lies in the padding.
template <typename Visit>
void for_each_tap(const ConvDims& d, const Conv2dParams& p, Visit&& visit) {
  const int64_t pixels = d.pixels();
  for (int64_t ch = 0; ch < d.c; ++ch)
    for (int64_t ki = 0; ki < d.kh; ++ki)
      for (int64_t kj = 0; kj < d.kw; ++kj) {
        const int64_t row = (ch * d.kh + ki) * d.kw + kj;
        for (int64_t oy = 0; oy < d.oh; ++oy) {
          const int64_t iy = oy * p.stride_h - p.pad_h + ki * p.dil_h;
          const int64_t col0 = row * pixels + oy * d.ow;
          const bool row_inside = iy >= 0 && iy < d.h;
          for (int64_t ox = 0; ox < d.ow; ++ox) {
            const int64_t ix = ox * p.stride_w - p.pad_w + kj * p.dil_w;
            const bool inside = row_inside && ix >= 0 && ix < d.w;
            visit(col0 + ox, inside ? (ch * d.h + iy) * d.w + ix : int64_t{-1});
          }
        }
      }
}

template <typename T>
void im2col(T* cols, const T* image, const ConvDims& d, const Conv2dParams& p) {
  for_each_tap(d, p, [&](int64_t col, int64_t xi) { cols[col] = xi >= 0 ? image[xi] : T(0); });
}

template <typename T>
void col2im(T* image, const T* cols, const ConvDims& d, const Conv2dParams& p) {
  std::fill(image, image + d.c * d.h * d.w, T(0));
  for_each_tap(d, p, [&](int64_t col, int64_t xi) {
    if (xi >= 0) image[xi] += cols[col];
  });
}

template <typename T>
void forward_impl(Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p) {
  const ConvDims d = dims_of(x, w, out);
  const bool pointwise = is_pointwise(d, p);
  std::vector<T> cols(pointwise ? 0 : static_cast<size_t>(d.patch() * d.pixels()));
  const T* xp = x.data_ptr<T>();
  const T* wp = w.data_ptr<T>();
  const T* bp = bias.defined() ? bias.data_ptr<T>() : nullptr;
  T* op = out.data_ptr<T>();
  for (int64_t n = 0; n < d.n; ++n) {
    const T* image = xp + n * d.c * d.h * d.w;
    T* result = op + n * d.o * d.pixels();
    const T* b = image;
    if (!pointwise) {
      im2col(cols.data(), image, d, p);
      b = cols.data();
    }
    gemm(false, false, d.o, d.pixels(), d.patch(), wp, d.patch(), b, d.pixels(), T(0), result, d.pixels());
    if (bp)
      for (int64_t oc = 0; oc < d.o; ++oc)
        for (int64_t i = 0; i < d.pixels(); ++i) result[oc * d.pixels() + i] += bp[oc];
  }
}

template <typename T>
void input_grad_impl(Tensor& grad_x, const Tensor& grad_out, const Tensor& w, const Conv2dParams& p) {
  const ConvDims d = dims_of(grad_x, w, grad_out);
  const bool pointwise = is_pointwise(d, p);
  std::vector<T> cols(pointwise ? 0 : static_cast<size_t>(d.patch() * d.pixels()));
  const T* gp = grad_out.data_ptr<T>();
  const T* wp = w.data_ptr<T>();
  T* gxp = grad_x.data_ptr<T>();
  for (int64_t n = 0; n < d.n; ++n) {
    const T* g = gp + n * d.o * d.pixels();
    T* image = gxp + n * d.c * d.h * d.w;
    T* c = pointwise ? image : cols.data();
    // cols [patch, pixels] = w^T [patch, o] * g [o, pixels]
    gemm(true, false, d.patch(), d.pixels(), d.o, wp, d.patch(), g, d.pixels(), T(0), c, d.pixels());
    if (!pointwise) col2im(image, cols.data(), d, p);
  }
}

template <typename T>
void weight_grad_impl(Tensor& grad_w, const Tensor& x, const Tensor& grad_out, const Conv2dParams& p) {
  const ConvDims d = dims_of(x, grad_w, grad_out);
  const bool pointwise = is_pointwise(d, p);
  std::vector<T> cols(pointwise ? 0 : static_cast<size_t>(d.patch() * d.pixels()));
  const T* xp = x.data_ptr<T>();
  const T* gp = grad_out.data_ptr<T>();
  T* gwp = grad_w.data_ptr<T>();
  if (d.n == 0 || d.pixels() == 0) std::fill(gwp, gwp + d.o * d.patch(), T(0));
  if (d.pixels() == 0) return;
  for (int64_t n = 0; n < d.n; ++n) {
    const T* image = xp + n * d.c * d.h * d.w;
    const T* b = image;
    if (!pointwise) {
      im2col(cols.data(), image, d, p);
      b = cols.data();
    }
    // grad_w [o, patch] (+)= g [o, pixels] * cols^T [pixels, patch]
    gemm(false, true, d.o, d.patch(), d.pixels(), gp + n * d.o * d.pixels(), d.pixels(), b, d.pixels(),
         n == 0 ? T(0) : T(1), gwp, d.patch());
  }
}

void conv2d_forward(Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p) {
  dispatch_floating(x.dtype(), "conv2d", [&](auto tag) {
    forward_impl<typename decltype(tag)::type>(out, x, w, bias, p);
  });
}

void conv2d_input_grad(Tensor& grad_x, const Tensor& grad_out, const Tensor& w, const Conv2dParams& p) {
  dispatch_floating(grad_out.dtype(), "conv2d_input_grad", [&](auto tag) {
    input_grad_impl<typename decltype(tag)::type>(grad_x, grad_out, w, p);
  });
}

void conv2d_weight_grad(Tensor& grad_w, const Tensor& x, const Tensor& grad_out, const Conv2dParams& p) {
  dispatch_floating(x.dtype(), "conv2d_weight_grad", [&](auto tag) {
    weight_grad_impl<typename decltype(tag)::type>(grad_w, x, grad_out, p);
  });
}

}  // namespace

GANTRY_REGISTER_KERNEL(conv2d_forward_kernel, CPU, &conv2d_forward);
GANTRY_REGISTER_KERNEL(conv2d_input_grad_kernel, CPU, &conv2d_input_grad);
GANTRY_REGISTER_KERNEL(conv2d_weight_grad_kernel, CPU, &conv2d_weight_grad);

}  // namespace gantry::cpu
