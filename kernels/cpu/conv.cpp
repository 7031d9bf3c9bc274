// CPU 2-D convolution as GEMMs through CBLAS. A chunk of nb images is unfolded at once into one column
// matrix cols [C KH KW, nb OH OW] (im2col; image b's pixels are columns b OH OW ...), so each GEMM
// sees nb times more columns than one image gives: the small late layers of an image GAN (4x4 or 8x8
// outputs) become GEMMs OpenBLAS runs near its peak instead of thin ones dominated by packing. The
// unfolding reads a zero-padded copy of each image, so its row loops have no bounds checks and
// compile to vector code for strides 1 and 2.
//   forward:      res [O, nb P] = w [O, CKK] * cols, then res is scattered to out [nb, O, P]; an image
//                 too large to share a chunk is unfolded a band of output rows at a time, each band's
//                 GEMM writing straight into the output (row stride P), so its columns stay in cache
//                 between being written and being read (a 147x147 3x3 layer unfolds to 25 MB at once)
//   input grad:   cols = w^T * g [O, nb P] (grad_out gathered), then folded back into images (col2im)
//   weight grad:  grad_w (+)= g [O, nb P] * cols^T, one GEMM per chunk with inner size nb P
// With nb = 1 the GEMMs read and write the tensors in place, and a 1x1 convolution with unit stride and
// no padding skips the unfolding: the image itself is the column matrix. The forward's bias is written
// into the GEMM's output before the GEMM, which then adds onto it (beta = 1) instead of zero-filling it
// first; the fused ReLU (conv2d_relu) runs on each band or chunk while it is still in cache.
// Temporaries live in per-thread scratch buffers (kernels/cpu/scratch_buffer.h), so a training step
// allocates nothing here. The work around the GEMMs (padding, unfolding and folding by input channel,
// bias, ReLU and copies by output channel) is split over the engine's CPU threads (parallel_for), each
// part writing its own rows, so the results do not depend on the thread count.
#include <cblas.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "engine/core/cpu_threads.h"
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
  parallel_for(nb * d.c, grain_for(pd.h * pd.w), [&](int64_t first, int64_t last) {
    for (int64_t plane_nr = first; plane_nr < last; ++plane_nr) {
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
  });
  return padded;
}

// Output rows [begin, end) of each image: the part of the images one column matrix holds.
struct OutputRows {
  int64_t begin, end;
  int64_t count() const { return end - begin; }
};
OutputRows all_rows(const ConvDims& d) { return {0, d.oh}; }

// Walks the column matrix cols [C KH KW, nb R OW] of output rows `rows` (R of them) of nb images row by
// row, in memory order, for the input channels [c0, c1): visit(col, offset) gets the offset of one
// output row (OW columns) in cols and the offset in the padded images of the input tap of its ox = 0;
// output column ox then pairs with padded element offset + ox * stride_w. One channel's rows of cols
// and taps in the images are its own, so channel ranges can be walked in parallel.
template <typename Visit>
void for_each_tap_row(const ConvDims& d, const Conv2dParams& p, int64_t nb, OutputRows rows, int64_t c0, int64_t c1,
                      Visit&& visit) {
  const PaddedDims pd = padded_dims(d, p);
  const int64_t P = rows.count() * d.ow, ld = nb * P, padded_image = pd.image(d.c);
  for (int64_t ch = c0; ch < c1; ++ch)
    for (int64_t ki = 0; ki < d.kh; ++ki)
      for (int64_t kj = 0; kj < d.kw; ++kj) {
        const int64_t row = (ch * d.kh + ki) * d.kw + kj;
        for (int64_t b = 0; b < nb; ++b)
          for (int64_t oy = rows.begin; oy < rows.end; ++oy)
            visit(row * ld + b * P + (oy - rows.begin) * d.ow,
                  b * padded_image + (ch * pd.h + oy * p.stride_h + ki * p.dil_h) * pd.w + kj * p.dil_w);
      }
}

// for_each_tap_row over all channels, split over the CPU threads by channel, with the stride a
// compile-time constant where it is 1 or 2: row(col, offset, sw).
template <typename Row>
void for_each_strided_tap_row(const ConvDims& d, const Conv2dParams& p, int64_t nb, OutputRows rows, Row&& row) {
  const int64_t per_channel = d.kh * d.kw * nb * rows.count() * d.ow;
  parallel_for(d.c, grain_for(per_channel), [&](int64_t c0, int64_t c1) {
    with_stride(p.stride_w, [&](auto fixed) {
      const int64_t sw = fixed() ? fixed() : p.stride_w;
      for_each_tap_row(d, p, nb, rows, c0, c1, [&](int64_t col, int64_t offset) { row(col, offset, sw); });
    });
  });
}

// Unfolds output rows `rows` of the nb padded images into the column matrix cols [C KH KW, nb R OW],
// writing it sequentially.
template <typename T>
void unfold_padded(T* cols, const T* padded, int64_t nb, const ConvDims& d, const Conv2dParams& p, OutputRows rows) {
  const int64_t ow = d.ow;
  for_each_strided_tap_row(d, p, nb, rows, [&](int64_t col, int64_t offset, int64_t sw) {
    for (int64_t ox = 0; ox < ow; ++ox) cols[col + ox] = padded[offset + ox * sw];
  });
}

// Unfolds the nb images at x into the column matrix cols [C KH KW, nb P].
template <typename T>
void im2col(T* cols, const T* x, int64_t nb, const ConvDims& d, const Conv2dParams& p) {
  unfold_padded(cols, pad_images(x, nb, d, p), nb, d, p, all_rows(d));
}

// Folds the column matrix cols [C KH KW, nb P] back into the nb images at x, reading it sequentially:
// each column adds into the input position it was read from.
template <typename T>
void col2im(T* x, const T* cols, int64_t nb, const ConvDims& d, const Conv2dParams& p) {
  const PaddedDims pd = padded_dims(d, p);
  const int64_t padded_size = nb * pd.image(d.c);
  T* padded = has_padding(p) ? scratch<T>(ScratchSlot::padded, static_cast<size_t>(padded_size)) : x;
  parallel_for(padded_size, grain_for(1), [&](int64_t first, int64_t last) {
    std::fill(padded + first, padded + last, T(0));
  });
  const int64_t ow = d.ow;
  for_each_strided_tap_row(d, p, nb, all_rows(d), [&](int64_t col, int64_t offset, int64_t sw) {
    for (int64_t ox = 0; ox < ow; ++ox) padded[offset + ox * sw] += cols[col + ox];
  });
  if (padded == x) return;
  parallel_for(nb * d.c, grain_for(d.h * d.w), [&](int64_t first, int64_t last) {
    for (int64_t plane_nr = first; plane_nr < last; ++plane_nr)
      for (int64_t y = 0; y < d.h; ++y)
        std::memcpy(x + (plane_nr * d.h + y) * d.w, padded + (plane_nr * pd.h + y + p.pad_h) * pd.w + p.pad_w,
                    static_cast<size_t>(d.w) * sizeof(T));
  });
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
  parallel_for(d.o, grain_for(nb * P), [&](int64_t first, int64_t last) {
    for (int64_t oc = first; oc < last; ++oc)
      for (int64_t b = 0; b < nb; ++b)
        std::memcpy(gt + oc * nb * P + b * P, g + ((n0 + b) * d.o + oc) * P, static_cast<size_t>(P) * sizeof(T));
  });
  return gt;
}

// Output rows per band of an image that does not share a chunk: as many as keep the band's column
// matrix within kColumnBytes, but at least kTargetColumns columns, below which the GEMM's packing of
// the weights would cost more than the cache misses saved (a 32x32 image is then still one band).
template <typename T>
int64_t rows_per_band(const ConvDims& d) {
  const int64_t ow = std::max<int64_t>(1, d.ow);
  const int64_t row_bytes = std::max<int64_t>(1, d.patch() * ow * static_cast<int64_t>(sizeof(T)));
  const int64_t rows = std::max(kColumnBytes / row_bytes, (kTargetColumns + ow - 1) / ow);
  return std::clamp<int64_t>(rows, 1, std::max<int64_t>(1, d.oh));
}

// Writes bias[oc] into the n columns of each row oc of c [O, ld] and returns the GEMM's beta: 1 to add
// onto it, or 0 without a bias.
template <typename T>
T prefill_bias(T* c, int64_t o, int64_t n, int64_t ld, const T* bias) {
  if (!bias) return T(0);
  parallel_for(o, grain_for(n), [&](int64_t first, int64_t last) {
    for (int64_t oc = first; oc < last; ++oc) std::fill(c + oc * ld, c + oc * ld + n, bias[oc]);
  });
  return T(1);
}

// relu's rule (NaN gives 0), on n values.
template <typename T>
void relu_copy(T* dst, const T* src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i] > 0 ? src[i] : T(0);
}

// The forward of one image, a band of output rows at a time, each band's GEMM writing into out.
template <typename T>
void forward_image(T* out, const T* x, const T* w, const T* bias, bool relu, const ConvDims& d, const Conv2dParams& p) {
  const int64_t P = d.pixels(), band = rows_per_band<T>(d);
  const bool pointwise = is_pointwise(d, p);
  const T* padded = pointwise ? x : pad_images(x, 1, d, p);
  for (int64_t oy = 0; oy < d.oh; oy += band) {
    const OutputRows rows{oy, std::min(d.oh, oy + band)};
    const int64_t n = rows.count() * d.ow;
    // A 1x1 unit-stride convolution reads the band of the image itself, row stride P.
    const T* cols = x + oy * d.ow;
    int64_t ldb = P;
    if (!pointwise) {
      T* unfolded = scratch<T>(ScratchSlot::columns, static_cast<size_t>(d.patch() * n));
      unfold_padded(unfolded, padded, 1, d, p, rows);
      cols = unfolded;
      ldb = n;
    }
    T* c = out + oy * d.ow;
    const T beta = prefill_bias(c, d.o, n, P, bias);
    gemm(false, false, d.o, n, d.patch(), w, d.patch(), cols, ldb, beta, c, P);
    if (relu)
      parallel_for(d.o, grain_for(n), [&](int64_t first, int64_t last) {
        for (int64_t oc = first; oc < last; ++oc) relu_copy(c + oc * P, c + oc * P, n);
      });
  }
}

template <typename T>
void forward_impl(Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p, bool relu) {
  const ConvDims d = dims_of(x, w, out);
  const int64_t P = d.pixels(), chunk = images_per_chunk<T>(d);
  const T* xp = x.data_ptr<T>();
  const T* wp = w.data_ptr<T>();
  const T* bp = bias.defined() ? bias.data_ptr<T>() : nullptr;
  T* op = out.data_ptr<T>();
  for (int64_t n0 = 0; n0 < d.n; n0 += chunk) {
    const int64_t nb = std::min(chunk, d.n - n0);
    if (nb == 1) {
      forward_image(op + n0 * d.o * P, xp + n0 * d.image(), wp, bp, relu, d, p);
      continue;
    }
    const T* cols = unfold_chunk(xp, n0, nb, d, p);
    T* res = scratch<T>(ScratchSlot::transposed, static_cast<size_t>(d.o * nb * P));
    const T beta = prefill_bias(res, d.o, nb * P, nb * P, bp);
    gemm(false, false, d.o, nb * P, d.patch(), wp, d.patch(), cols, nb * P, beta, res, nb * P);
    parallel_for(d.o, grain_for(nb * P), [&](int64_t first, int64_t last) {
      for (int64_t b = 0; b < nb; ++b)
        for (int64_t oc = first; oc < last; ++oc) {
          T* dst = op + ((n0 + b) * d.o + oc) * P;
          const T* src = res + oc * nb * P + b * P;
          if (relu) relu_copy(dst, src, P);
          else std::memcpy(dst, src, static_cast<size_t>(P) * sizeof(T));
        }
    });
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
  dispatch_floating(x.dtype(), "conv2d",
                    [&](auto tag) { forward_impl<typename decltype(tag)::type>(out, x, w, bias, p, false); });
}

void conv2d_relu_forward(Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p) {
  dispatch_floating(x.dtype(), "conv2d_relu",
                    [&](auto tag) { forward_impl<typename decltype(tag)::type>(out, x, w, bias, p, true); });
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
GANTRY_REGISTER_KERNEL(conv2d_relu_forward_kernel, CPU, &conv2d_relu_forward);
GANTRY_REGISTER_KERNEL(conv2d_input_grad_kernel, CPU, &conv2d_input_grad);
GANTRY_REGISTER_KERNEL(conv2d_weight_grad_kernel, CPU, &conv2d_weight_grad);

}  // namespace gantry::cpu
