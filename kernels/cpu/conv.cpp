// CPU 2-D convolution as GEMMs through CBLAS. A chunk of nb images is unfolded at once into one column
// matrix cols [C KH KW, nb OH OW] (im2col; image b's pixels are columns b OH OW ...), so each GEMM
// sees nb times more columns than one image gives: the small late layers of an image GAN (4x4 or 8x8
// outputs) become GEMMs OpenBLAS runs near its peak instead of thin ones dominated by packing. The
// unfolding reads a zero-padded copy of each image, so its row loops have no bounds checks and
// compile to vector code for strides 1 and 2.
//   forward:      res [O, nb P] = w [O, CKK] * cols, then res is scattered to out [nb, O, P]
//   input grad:   cols = w^T * g [O, nb P] (grad_out gathered), then folded back into images (col2im)
//   weight grad:  grad_w (+)= g [O, nb P] * cols^T, one GEMM per chunk with inner size nb P
// With nb = 1 the GEMMs read and write the tensors in place, and a 1x1 convolution with unit stride and
// no padding skips the unfolding: the image itself is the column matrix. Temporaries live in per-thread
// scratch buffers (kernels/cpu/scratch_buffer.h), so a training step allocates nothing here.
#include <cblas.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "engine/dispatch/conv_kernels.h"
#include "kernels/cpu/scratch_buffer.h"

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
  int64_t n, c, h, w;                            // input
  int64_t o, kh, kw;                             // weight
  int64_t oh, ow;                                // output
  int64_t patch() const { return c * kh * kw; }  // rows of the column matrix
  int64_t pixels() const { return oh * ow; }     // columns of the column matrix per image
  int64_t image() const { return c * h * w; }    // elements of one input image
};

ConvDims dims_of(const Tensor& x_like, const Tensor& w, const Tensor& out_like) {
  return {x_like.shape()[0], x_like.shape()[1], x_like.shape()[2], x_like.shape()[3], w.shape()[0],
          w.shape()[2],      w.shape()[3],      out_like.shape()[2], out_like.shape()[3]};
}

bool is_pointwise(const ConvDims& d, const Conv2dParams& p) {
  return d.kh == 1 && d.kw == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_h == 0 && p.pad_w == 0;
}

// Columns one GEMM should see at least, and the most memory one chunk's column matrix may take: small
// enough to stay in a core's L2 cache between being written and being read by the GEMM.
constexpr int64_t kTargetColumns = 1024;
constexpr int64_t kColumnBytes = int64_t{2} << 20;

// Images per chunk: enough for kTargetColumns GEMM columns, within kColumnBytes of columns.
template <typename T>
int64_t images_per_chunk(const ConvDims& d) {
  const int64_t per_image = std::max<int64_t>(1, d.patch() * d.pixels() * static_cast<int64_t>(sizeof(T)));
  const int64_t wanted = (kTargetColumns + d.pixels() - 1) / std::max<int64_t>(1, d.pixels());
  return std::clamp<int64_t>(std::min(wanted, kColumnBytes / per_image), 1, std::max<int64_t>(1, d.n));
}

// Calls fn(std::integral_constant<int64_t, S>) with S = the stride when it is 1 or 2 (so the row
// loops below compile to contiguous or stride-2 vector code), else with S = 0 (read it at run time).
template <typename Fn>
void with_stride(int64_t stride, Fn&& fn) {
  if (stride == 1) return fn(std::integral_constant<int64_t, 1>{});
  if (stride == 2) return fn(std::integral_constant<int64_t, 2>{});
  fn(std::integral_constant<int64_t, 0>{});
}

// Images with their zero padding written out: unfolding and folding then need no bounds checks.
struct PaddedDims {
  int64_t h, w;
  int64_t image(int64_t c) const { return c * h * w; }
};
PaddedDims padded_dims(const ConvDims& d, const Conv2dParams& p) { return {d.h + 2 * p.pad_h, d.w + 2 * p.pad_w}; }
bool has_padding(const Conv2dParams& p) { return p.pad_h > 0 || p.pad_w > 0; }

// Copies the nb images at x [nb, C, H, W] into the interiors of [nb, C, H + 2 pad_h, W + 2 pad_w]
// (borders zeroed), or returns x itself when there is no padding.
template <typename T>
const T* pad_images(const T* x, int64_t nb, const ConvDims& d, const Conv2dParams& p) {
  if (!has_padding(p)) return x;
  const PaddedDims pd = padded_dims(d, p);
  T* padded = scratch<T>(ScratchSlot::padded, static_cast<size_t>(nb * pd.image(d.c)));
  for (int64_t plane_nr = 0; plane_nr < nb * d.c; ++plane_nr) {
    T* plane = padded + plane_nr * pd.h * pd.w;
    std::fill(plane, plane + p.pad_h * pd.w, T(0));
    for (int64_t y = 0; y < d.h; ++y) {
      T* row = plane + (y + p.pad_h) * pd.w;
      std::fill(row, row + p.pad_w, T(0));
      std::memcpy(row + p.pad_w, x + (plane_nr * d.h + y) * d.w, static_cast<size_t>(d.w) * sizeof(T));
      std::fill(row + p.pad_w + d.w, row + pd.w, T(0));
    }
    std::fill(plane + (p.pad_h + d.h) * pd.w, plane + pd.h * pd.w, T(0));
  }
  return padded;
}

// Walks the column matrix cols [C KH KW, nb P] of nb images row by row, in memory order:
// visit(col, offset) gets the offset of one output row (OW columns) in cols and the offset in the
// padded images of the input tap of its ox = 0; output column ox then pairs with padded element
// offset + ox * stride_w.
template <typename Visit>
void for_each_tap_row(const ConvDims& d, const Conv2dParams& p, int64_t nb, Visit&& visit) {
  const PaddedDims pd = padded_dims(d, p);
  const int64_t P = d.pixels(), ld = nb * P, padded_image = pd.image(d.c);
  for (int64_t ch = 0; ch < d.c; ++ch)
    for (int64_t ki = 0; ki < d.kh; ++ki)
      for (int64_t kj = 0; kj < d.kw; ++kj) {
        const int64_t row = (ch * d.kh + ki) * d.kw + kj;
        for (int64_t b = 0; b < nb; ++b)
          for (int64_t oy = 0; oy < d.oh; ++oy)
            visit(row * ld + b * P + oy * d.ow,
                  b * padded_image + (ch * pd.h + oy * p.stride_h + ki * p.dil_h) * pd.w + kj * p.dil_w);
      }
}

// for_each_tap_row with the stride a compile-time constant where it is 1 or 2: row(col, offset, sw).
template <typename Row>
void for_each_strided_tap_row(const ConvDims& d, const Conv2dParams& p, int64_t nb, Row&& row) {
  with_stride(p.stride_w, [&](auto fixed) {
    const int64_t sw = fixed() ? fixed() : p.stride_w;
    for_each_tap_row(d, p, nb, [&](int64_t col, int64_t offset) { row(col, offset, sw); });
  });
}

// Unfolds the nb images at x into the column matrix cols [C KH KW, nb P], writing it sequentially.
template <typename T>
void im2col(T* cols, const T* x, int64_t nb, const ConvDims& d, const Conv2dParams& p) {
  const T* padded = pad_images(x, nb, d, p);
  const int64_t ow = d.ow;
  for_each_strided_tap_row(d, p, nb, [&](int64_t col, int64_t offset, int64_t sw) {
    for (int64_t ox = 0; ox < ow; ++ox) cols[col + ox] = padded[offset + ox * sw];
  });
}

// Folds the column matrix cols [C KH KW, nb P] back into the nb images at x, reading it sequentially:
// each column adds into the input position it was read from.
template <typename T>
void col2im(T* x, const T* cols, int64_t nb, const ConvDims& d, const Conv2dParams& p) {
  const PaddedDims pd = padded_dims(d, p);
  const int64_t padded_size = nb * pd.image(d.c);
  T* padded = has_padding(p) ? scratch<T>(ScratchSlot::padded, static_cast<size_t>(padded_size)) : x;
  std::fill(padded, padded + padded_size, T(0));
  const int64_t ow = d.ow;
  for_each_strided_tap_row(d, p, nb, [&](int64_t col, int64_t offset, int64_t sw) {
    for (int64_t ox = 0; ox < ow; ++ox) padded[offset + ox * sw] += cols[col + ox];
  });
  if (padded == x) return;
  for (int64_t plane_nr = 0; plane_nr < nb * d.c; ++plane_nr)
    for (int64_t y = 0; y < d.h; ++y)
      std::memcpy(x + (plane_nr * d.h + y) * d.w, padded + (plane_nr * pd.h + y + p.pad_h) * pd.w + p.pad_w,
                  static_cast<size_t>(d.w) * sizeof(T));
}

// The column matrix of images [n0, n0 + nb) with row stride nb P, or the image itself for a single
// pointwise image.
template <typename T>
const T* unfold_chunk(const T* x, int64_t n0, int64_t nb, const ConvDims& d, const Conv2dParams& p) {
  if (nb == 1 && is_pointwise(d, p)) return x + n0 * d.image();
  T* cols = scratch<T>(ScratchSlot::columns, static_cast<size_t>(d.patch() * nb * d.pixels()));
  im2col(cols, x + n0 * d.image(), nb, d, p);
  return cols;
}

// grad_out of images [n0, n0 + nb) as one [O, nb P] matrix (the tensor itself when nb = 1).
template <typename T>
const T* gather_chunk(const T* g, int64_t n0, int64_t nb, const ConvDims& d) {
  const int64_t P = d.pixels();
  if (nb == 1) return g + n0 * d.o * P;
  T* gt = scratch<T>(ScratchSlot::transposed, static_cast<size_t>(d.o * nb * P));
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t oc = 0; oc < d.o; ++oc)
      std::memcpy(gt + oc * nb * P + b * P, g + ((n0 + b) * d.o + oc) * P, static_cast<size_t>(P) * sizeof(T));
  return gt;
}

template <typename T>
void forward_impl(Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p) {
  const ConvDims d = dims_of(x, w, out);
  const int64_t P = d.pixels(), chunk = images_per_chunk<T>(d);
  const T* xp = x.data_ptr<T>();
  const T* wp = w.data_ptr<T>();
  const T* bp = bias.defined() ? bias.data_ptr<T>() : nullptr;
  T* op = out.data_ptr<T>();
  for (int64_t n0 = 0; n0 < d.n; n0 += chunk) {
    const int64_t nb = std::min(chunk, d.n - n0);
    const T* cols = unfold_chunk(xp, n0, nb, d, p);
    T* res = nb == 1 ? op + n0 * d.o * P : scratch<T>(ScratchSlot::transposed, static_cast<size_t>(d.o * nb * P));
    gemm(false, false, d.o, nb * P, d.patch(), wp, d.patch(), cols, nb * P, T(0), res, nb * P);
    for (int64_t b = 0; b < nb; ++b)
      for (int64_t oc = 0; oc < d.o; ++oc) {
        T* dst = op + ((n0 + b) * d.o + oc) * P;
        if (nb > 1) std::memcpy(dst, res + oc * nb * P + b * P, static_cast<size_t>(P) * sizeof(T));
        if (bp)
          for (int64_t i = 0; i < P; ++i) dst[i] += bp[oc];
      }
  }
}

template <typename T>
void input_grad_impl(Tensor& grad_x, const Tensor& grad_out, const Tensor& w, const Conv2dParams& p) {
  const ConvDims d = dims_of(grad_x, w, grad_out);
  const int64_t P = d.pixels(), chunk = images_per_chunk<T>(d);
  const bool pointwise = is_pointwise(d, p);
  const T* gp = grad_out.data_ptr<T>();
  const T* wp = w.data_ptr<T>();
  T* gxp = grad_x.data_ptr<T>();
  for (int64_t n0 = 0; n0 < d.n; n0 += chunk) {
    const int64_t nb = std::min(chunk, d.n - n0);
    const T* g = gather_chunk(gp, n0, nb, d);
    const bool in_place = nb == 1 && pointwise;
    T* cols =
        in_place ? gxp + n0 * d.image() : scratch<T>(ScratchSlot::columns, static_cast<size_t>(d.patch() * nb * P));
    // cols [patch, nb P] = w^T [patch, o] * g [o, nb P]
    gemm(true, false, d.patch(), nb * P, d.o, wp, d.patch(), g, nb * P, T(0), cols, nb * P);
    if (in_place) continue;
    col2im(gxp + n0 * d.image(), cols, nb, d, p);
  }
}

template <typename T>
void weight_grad_impl(Tensor& grad_w, const Tensor& x, const Tensor& grad_out, const Conv2dParams& p) {
  const ConvDims d = dims_of(x, grad_w, grad_out);
  const int64_t P = d.pixels(), chunk = images_per_chunk<T>(d);
  const T* xp = x.data_ptr<T>();
  const T* gp = grad_out.data_ptr<T>();
  T* gwp = grad_w.data_ptr<T>();
  if (d.n == 0 || P == 0) {
    std::fill(gwp, gwp + d.o * d.patch(), T(0));
    return;
  }
  for (int64_t n0 = 0; n0 < d.n; n0 += chunk) {
    const int64_t nb = std::min(chunk, d.n - n0);
    const T* cols = unfold_chunk(xp, n0, nb, d, p);
    const T* g = gather_chunk(gp, n0, nb, d);
    // grad_w [o, patch] (+)= g [o, nb P] * cols^T [nb P, patch]
    gemm(false, true, d.o, d.patch(), nb * P, g, nb * P, cols, nb * P, n0 == 0 ? T(0) : T(1), gwp, d.patch());
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
