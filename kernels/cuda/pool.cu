// CUDA pooling over the rectangular windows of PoolWindows: one thread per output element (per input
// element for the average's backward), consecutive threads on consecutive elements of a row, so
// stores are coalesced and window reads of neighbouring threads share cache lines.
//
// The window tables travel in one workspace uploaded with upload_async (no host synchronisation). The
// backward is a gather, not a scatter: for every input row the host lists the output rows whose window
// covers it (likewise columns), so each input element sums its shares in the same (i, j) order the
// CPU kernel adds them, without atomics, for windows of any shape (overlapping, adaptive).
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "engine/dispatch/pool_kernels.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/runtime.h"
#include "kernels/cuda/workspace.h"

namespace gantry::cuda {
namespace {

constexpr int kPoolThreads = 256;

struct DeviceWindows {
  const double* row_divisor;
  const double* col_divisor;
  const int* row_start;
  const int* row_end;
  const int* col_start;
  const int* col_end;
};

// For the backward: the output rows covering input row y are row_index[row_ptr[y] .. row_ptr[y + 1]).
struct DeviceCover {
  const int* row_ptr;
  const int* row_index;
  const int* col_ptr;
  const int* col_index;
};

// Host tables packed into one buffer, each 8-byte aligned.
class TablePack {
 public:
  template <typename V>
  size_t add(const std::vector<V>& values) {
    const size_t offset = (bytes_.size() + 7) / 8 * 8;
    bytes_.resize(offset + values.size() * sizeof(V));
    if (!values.empty()) std::memcpy(bytes_.data() + offset, values.data(), values.size() * sizeof(V));
    return offset;
  }
  size_t size() const { return std::max<size_t>(bytes_.size(), 8); }
  const unsigned char* data() const { return bytes_.data(); }

 private:
  std::vector<unsigned char> bytes_;
};

std::vector<int> narrow(const std::vector<int64_t>& v) { return std::vector<int>(v.begin(), v.end()); }

// Output rows whose window [start, end) covers each of `in` input rows, in increasing order.
void cover_lists(const std::vector<int64_t>& start, const std::vector<int64_t>& end, int64_t in, std::vector<int>& ptr,
                 std::vector<int>& index) {
  std::vector<std::vector<int>> lists(static_cast<size_t>(in));
  for (size_t i = 0; i < start.size(); ++i)
    for (int64_t y = start[i]; y < end[i]; ++y) lists[static_cast<size_t>(y)].push_back(static_cast<int>(i));
  ptr.assign(1, 0);
  for (const auto& l : lists) {
    index.insert(index.end(), l.begin(), l.end());
    ptr.push_back(static_cast<int>(index.size()));
  }
}

void check_windows(const char* op, const PoolWindows& win, int64_t h, int64_t w) {
  const size_t oh = win.row_start.size(), ow = win.col_start.size();
  GANTRY_CHECK(win.row_end.size() == oh && win.row_divisor.size() == oh && win.col_end.size() == ow &&
                   win.col_divisor.size() == ow,
               op, ": inconsistent window tables");
  for (size_t i = 0; i < oh; ++i)
    GANTRY_CHECK(0 <= win.row_start[i] && win.row_start[i] < win.row_end[i] && win.row_end[i] <= h, op,
                 ": row window ", i, " [", win.row_start[i], ", ", win.row_end[i], ") outside [0, ", h, ")");
  for (size_t j = 0; j < ow; ++j)
    GANTRY_CHECK(0 <= win.col_start[j] && win.col_start[j] < win.col_end[j] && win.col_end[j] <= w, op,
                 ": column window ", j, " [", win.col_start[j], ", ", win.col_end[j], ") outside [0, ", w, ")");
}

template <typename T, typename I>
__global__ void avg_pool_kernel(T* __restrict__ out, const T* __restrict__ x, DeviceWindows win, I total, int h, int w,
                                int oh, int ow) {
  for (I idx = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += static_cast<I>(gridDim.x) * blockDim.x) {
    const int j = static_cast<int>(idx % ow);
    const I t = idx / ow;
    const int i = static_cast<int>(t % oh);
    const T* plane = x + (t / oh) * static_cast<I>(h) * w;
    T acc = T(0);
    for (int y = win.row_start[i]; y < win.row_end[i]; ++y)
      for (int xx = win.col_start[j]; xx < win.col_end[j]; ++xx) acc += plane[y * w + xx];
    out[idx] = acc / static_cast<T>(win.row_divisor[i] * win.col_divisor[j]);
  }
}

template <typename T, typename I>
__global__ void avg_pool_backward_kernel(T* __restrict__ grad_x, const T* __restrict__ grad_out, DeviceWindows win,
                                         DeviceCover cover, I total, int h, int w, int oh, int ow) {
  for (I idx = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += static_cast<I>(gridDim.x) * blockDim.x) {
    const int xx = static_cast<int>(idx % w);
    const I t = idx / w;
    const int y = static_cast<int>(t % h);
    const T* g = grad_out + (t / h) * static_cast<I>(oh) * ow;
    T acc = T(0);
    for (int a = cover.row_ptr[y]; a < cover.row_ptr[y + 1]; ++a) {
      const int i = cover.row_index[a];
      for (int b = cover.col_ptr[xx]; b < cover.col_ptr[xx + 1]; ++b) {
        const int j = cover.col_index[b];
        acc += g[i * ow + j] / static_cast<T>(win.row_divisor[i] * win.col_divisor[j]);
      }
    }
    grad_x[idx] = acc;
  }
}

template <typename T, typename I>
__global__ void max_pool_kernel(T* __restrict__ out, int64_t* __restrict__ indices, const T* __restrict__ x,
                                DeviceWindows win, I total, int h, int w, int oh, int ow) {
  for (I idx = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += static_cast<I>(gridDim.x) * blockDim.x) {
    const int j = static_cast<int>(idx % ow);
    const I t = idx / ow;
    const int i = static_cast<int>(t % oh);
    const T* plane = x + (t / oh) * static_cast<I>(h) * w;
    int best = win.row_start[i] * w + win.col_start[j];
    T best_val = plane[best];
    for (int y = win.row_start[i]; y < win.row_end[i]; ++y)
      for (int xx = win.col_start[j]; xx < win.col_end[j]; ++xx) {
        const T v = plane[y * w + xx];
        if (v > best_val || (isnan(v) && !isnan(best_val))) {  // NaN wins, first maximum kept
          best_val = v;
          best = y * w + xx;
        }
      }
    out[idx] = best_val;
    indices[idx] = best;
  }
}

// Uploads the window tables (and, for the backward, the cover lists of an h x w input) into `ws`.
struct UploadedWindows {
  DeviceWindows win{};
  DeviceCover cover{};
};

UploadedWindows upload_windows(const PoolWindows& pw, int64_t h, int64_t w, bool with_cover, int device,
                               cudaStream_t stream, std::unique_ptr<Workspace>& ws) {
  TablePack pack;
  const size_t rd = pack.add(pw.row_divisor), cd = pack.add(pw.col_divisor);
  const size_t rs = pack.add(narrow(pw.row_start)), re = pack.add(narrow(pw.row_end));
  const size_t cs = pack.add(narrow(pw.col_start)), ce = pack.add(narrow(pw.col_end));
  size_t rp = 0, ri = 0, cp = 0, cix = 0;
  if (with_cover) {
    std::vector<int> row_ptr, row_index, col_ptr, col_index;
    cover_lists(pw.row_start, pw.row_end, h, row_ptr, row_index);
    cover_lists(pw.col_start, pw.col_end, w, col_ptr, col_index);
    rp = pack.add(row_ptr);
    ri = pack.add(row_index);
    cp = pack.add(col_ptr);
    cix = pack.add(col_index);
  }
  ws = std::make_unique<Workspace>(pack.size(), device);
  upload_async(ws->data(), pack.data(), pack.size(), device, stream);
  const unsigned char* base = ws->as<unsigned char>();
  UploadedWindows u;
  u.win = {reinterpret_cast<const double*>(base + rd), reinterpret_cast<const double*>(base + cd),
           reinterpret_cast<const int*>(base + rs),    reinterpret_cast<const int*>(base + re),
           reinterpret_cast<const int*>(base + cs),    reinterpret_cast<const int*>(base + ce)};
  if (with_cover)
    u.cover = {reinterpret_cast<const int*>(base + rp), reinterpret_cast<const int*>(base + ri),
               reinterpret_cast<const int*>(base + cp), reinterpret_cast<const int*>(base + cix)};
  return u;
}

void check_pool_tensors(const char* op, const Tensor& a, const Tensor& b) {
  check_device(a.device(), op);
  GANTRY_CHECK(a.device() == b.device() && a.dtype() == b.dtype() && a.is_contiguous() && b.is_contiguous() &&
                   a.dim() == 4 && b.dim() == 4,
               op, ": CUDA kernel expects contiguous 4-D tensors of one dtype on one device, got ",
               shape_str(a.shape()), " and ", shape_str(b.shape()));
  GANTRY_CHECK(a.size(2) <= INT_MAX && a.size(3) <= INT_MAX && b.size(2) <= INT_MAX && b.size(3) <= INT_MAX &&
                   a.size(2) * a.size(3) <= INT_MAX && b.size(2) * b.size(3) <= INT_MAX,
               op, ": planes of ", shape_str(a.shape()), " / ", shape_str(b.shape()), " are too large");
}

// Calls fn(index_tag) with int when every element index fits in 32 bits, else int64_t.
template <typename F>
void with_index(int64_t largest, F&& fn) {
  if (largest <= INT_MAX) fn(int{});
  else fn(int64_t{});
}

// What the three launches share once their tensors are checked: the window check, the device and stream,
// the uploaded tables, then launch(grid, stream, windows, T tag, I tag) for the dtype and the index width.
// `plane` is the input-side tensor whose h x w the windows cover; `threads` is one per element it writes.
template <typename F>
void launch_pool(const char* op, const Tensor& plane, const Tensor& other, int64_t threads, const PoolWindows& pw,
                 bool backward, F&& launch) {
  check_windows(op, pw, plane.size(2), plane.size(3));
  if (threads == 0) return;
  DeviceGuard guard(plane.device());
  const int device = plane.device().index;
  const cudaStream_t stream = current_stream(device);
  std::unique_ptr<Workspace> ws;
  const UploadedWindows u = upload_windows(pw, plane.size(2), plane.size(3), backward, device, stream, ws);
  dispatch_floating(plane.dtype(), op, [&](auto tag) {
    with_index(std::max(plane.numel(), other.numel()), [&](auto itag) {
      launch(grid_for(threads, kPoolThreads), stream, u, tag, itag);
      GANTRY_CUDA_LAUNCH_CHECK();
    });
  });
}

int plane_h(const Tensor& t) { return static_cast<int>(t.size(2)); }
int plane_w(const Tensor& t) { return static_cast<int>(t.size(3)); }

void cuda_avg_pool2d(Tensor& out, const Tensor& x, const PoolWindows& pw) {
  const char* op = "avg_pool2d";
  check_pool_tensors(op, out, x);
  launch_pool(op, x, out, out.numel(), pw, false,
              [&](auto grid, cudaStream_t stream, const UploadedWindows& u, auto tag, auto itag) {
                using T = typename decltype(tag)::type;
                using I = decltype(itag);
                GANTRY_LAUNCH(grid, kPoolThreads, 0, stream, avg_pool_kernel<T, I>)(
                    static_cast<T*>(out.raw_data()), static_cast<const T*>(x.raw_data()), u.win,
                    static_cast<I>(out.numel()), plane_h(x), plane_w(x), plane_h(out), plane_w(out));
              });
}

void cuda_avg_pool2d_backward(Tensor& grad_x, const Tensor& grad_out, const PoolWindows& pw) {
  const char* op = "avg_pool2d_backward";
  check_pool_tensors(op, grad_x, grad_out);
  launch_pool(op, grad_x, grad_out, grad_x.numel(), pw, true,
              [&](auto grid, cudaStream_t stream, const UploadedWindows& u, auto tag, auto itag) {
                using T = typename decltype(tag)::type;
                using I = decltype(itag);
                GANTRY_LAUNCH(grid, kPoolThreads, 0, stream, avg_pool_backward_kernel<T, I>)(
                    static_cast<T*>(grad_x.raw_data()), static_cast<const T*>(grad_out.raw_data()), u.win, u.cover,
                    static_cast<I>(grad_x.numel()), plane_h(grad_x), plane_w(grad_x), plane_h(grad_out),
                    plane_w(grad_out));
              });
}

void cuda_max_pool2d(Tensor& out, Tensor& indices, const Tensor& x, const PoolWindows& pw) {
  const char* op = "max_pool2d";
  check_pool_tensors(op, out, x);
  GANTRY_CHECK(indices.device() == out.device() && indices.dtype() == DType::i64 && indices.is_contiguous() &&
                   indices.shape() == out.shape(),
               op, ": indices must be a contiguous int64 tensor of shape ", shape_str(out.shape()));
  launch_pool(op, x, out, out.numel(), pw, false,
              [&](auto grid, cudaStream_t stream, const UploadedWindows& u, auto tag, auto itag) {
                using T = typename decltype(tag)::type;
                using I = decltype(itag);
                GANTRY_LAUNCH(grid, kPoolThreads, 0, stream, max_pool_kernel<T, I>)(
                    static_cast<T*>(out.raw_data()), static_cast<int64_t*>(indices.raw_data()),
                    static_cast<const T*>(x.raw_data()), u.win, static_cast<I>(out.numel()), plane_h(x), plane_w(x),
                    plane_h(out), plane_w(out));
              });
}

}  // namespace

GANTRY_REGISTER_KERNEL(avg_pool2d_kernel, CUDA, &cuda_avg_pool2d);
GANTRY_REGISTER_KERNEL(avg_pool2d_backward_kernel, CUDA, &cuda_avg_pool2d_backward);
GANTRY_REGISTER_KERNEL(max_pool2d_kernel, CUDA, &cuda_max_pool2d);

}  // namespace gantry::cuda
