#pragma once
// nvcuda::wmma for the emulator (mma.h declares nothing outside nvcc's device pass).
//
// Fragment layout (the emulator's own; CUDA leaves it unspecified): a fragment holds a rows x cols
// tile (matrix_a: M x K, matrix_b: K x N, accumulator: M x N) split evenly over the 32 lanes of a
// warp; lane l holds elements [l * n, (l + 1) * n) of the tile in row-major order, n = num_elements =
// rows * cols / 32, whatever the fragment's memory layout (row_major / col_major only says how
// load/store read memory). Element-wise code over frag.x[i] works as on a GPU.
//
// load_matrix_sync, store_matrix_sync and mma_sync are warp collectives (all 32 lanes must reach the
// same call). mma_sync gathers A, B and C from the lanes and every lane computes its own elements of
// D = A * B + C in fp32, k in ascending order, starting from C. TF32 operands are read as the
// hardware reads them (low 13 bits ignored); products of TF32 or BF16 values are exact in fp32, so
// only the accumulation order and rounding can differ from a tensor core.
#include <cuda_bf16.h>

#include <type_traits>

#include "kernels/cuda/emu/tf32.h"
#include "kernels/cuda/emu/warp.h"

namespace nvcuda::wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
namespace precision {
struct tf32 {};
}  // namespace precision
enum layout_t { mem_row_major, mem_col_major };

inline float __float_to_tf32(float x) { return ::gantry::emu::round_to_tf32(x); }

namespace detail {

template <typename Use, int M, int N, int K>
struct Shape;
template <int M, int N, int K>
struct Shape<matrix_a, M, N, K> {
  static constexpr int rows = M, cols = K;
};
template <int M, int N, int K>
struct Shape<matrix_b, M, N, K> {
  static constexpr int rows = K, cols = N;
};
template <int M, int N, int K>
struct Shape<accumulator, M, N, K> {
  static constexpr int rows = M, cols = N;
};

template <typename T>
struct Storage {
  using type = T;
};
template <>
struct Storage<precision::tf32> {
  using type = float;
};

template <typename T>
float operand_value(T v) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) return __bfloat162float(v);
  else return static_cast<float>(v);
}

inline constexpr uint32_t kFullWarp = 0xffffffffu;

}  // namespace detail

template <typename Use, int M, int N, int K, typename T, typename Layout = void>
class fragment {
 public:
  using element_type = T;
  using storage_element_type = typename detail::Storage<T>::type;
  static constexpr int rows = detail::Shape<Use, M, N, K>::rows;
  static constexpr int cols = detail::Shape<Use, M, N, K>::cols;
  static constexpr int num_elements = rows * cols / ::gantry::emu::kWarpSize;
  static_assert(rows * cols % ::gantry::emu::kWarpSize == 0);
  storage_element_type x[num_elements];

  // Row and column of element i of the calling lane.
  static int row_of(int lane, int i) { return (lane * num_elements + i) / cols; }
  static int col_of(int lane, int i) { return (lane * num_elements + i) % cols; }
};

template <typename Use, int M, int N, int K, typename T, typename Layout, typename V>
void fill_fragment(fragment<Use, M, N, K, T, Layout>& f, const V& value) {
  using F = fragment<Use, M, N, K, T, Layout>;
  for (int i = 0; i < F::num_elements; ++i) f.x[i] = static_cast<typename F::storage_element_type>(value);
}

namespace detail {
template <typename F, typename P>
void load_lane(F& f, const P* p, unsigned ldm, bool col) {
  const int lane = ::gantry::emu::current_thread().lane;
  for (int i = 0; i < F::num_elements; ++i) {
    const int r = F::row_of(lane, i), c = F::col_of(lane, i);
    f.x[i] = static_cast<typename F::storage_element_type>(col ? p[c * ldm + r] : p[r * ldm + c]);
  }
}
}  // namespace detail

#define GANTRY_EMU_WMMA_SITE(what) \
  ::gantry::emu::SourceSite { what, "wmma", 0 }

template <typename Use, int M, int N, int K, typename T, typename Layout, typename P>
void load_matrix_sync(fragment<Use, M, N, K, T, Layout>& f, const P* p, unsigned ldm) {
  static_assert(!std::is_same_v<Use, accumulator>, "an accumulator load needs a layout_t");
  ::gantry::emu::syncwarp(GANTRY_EMU_WMMA_SITE("wmma::load_matrix_sync"), detail::kFullWarp);
  detail::load_lane(f, p, ldm, std::is_same_v<Layout, col_major>);
}

template <int M, int N, int K, typename T, typename P>
void load_matrix_sync(fragment<accumulator, M, N, K, T>& f, const P* p, unsigned ldm, layout_t layout) {
  ::gantry::emu::syncwarp(GANTRY_EMU_WMMA_SITE("wmma::load_matrix_sync"), detail::kFullWarp);
  detail::load_lane(f, p, ldm, layout == mem_col_major);
}

template <int M, int N, int K, typename T, typename P>
void store_matrix_sync(P* p, const fragment<accumulator, M, N, K, T>& f, unsigned ldm, layout_t layout) {
  using F = fragment<accumulator, M, N, K, T>;
  const int lane = ::gantry::emu::current_thread().lane;
  for (int i = 0; i < F::num_elements; ++i) {
    const int r = F::row_of(lane, i), c = F::col_of(lane, i);
    (layout == mem_col_major ? p[c * ldm + r] : p[r * ldm + c]) = static_cast<P>(f.x[i]);
  }
  ::gantry::emu::syncwarp(GANTRY_EMU_WMMA_SITE("wmma::store_matrix_sync"), detail::kFullWarp);
}

template <int M, int N, int K, typename TA, typename LA, typename TB, typename LB, typename TC>
void mma_sync(fragment<accumulator, M, N, K, TC>& d, const fragment<matrix_a, M, N, K, TA, LA>& a,
              const fragment<matrix_b, M, N, K, TB, LB>& b, const fragment<accumulator, M, N, K, TC>& c) {
  using FA = fragment<matrix_a, M, N, K, TA, LA>;
  using FB = fragment<matrix_b, M, N, K, TB, LB>;
  using FC = fragment<accumulator, M, N, K, TC>;
  static_assert(M * K <= 256 && K * N <= 256 && M * N <= 256, "tile larger than the exchange area");
  ::gantry::emu::ThreadState& t = ::gantry::emu::current_thread();
  ::gantry::emu::WarpState& w = t.block->warp_of(t);
  const int parity = w.parity;
  float* ta = w.tile[parity][0];
  float* tb = w.tile[parity][1];
  float* tc = w.tile[parity][2];
  for (int i = 0; i < FA::num_elements; ++i) {
    const float v = detail::operand_value(a.x[i]);
    ta[t.lane * FA::num_elements + i] = std::is_same_v<TA, precision::tf32> ? ::gantry::emu::tf32_operand(v) : v;
  }
  for (int i = 0; i < FB::num_elements; ++i) {
    const float v = detail::operand_value(b.x[i]);
    tb[t.lane * FB::num_elements + i] = std::is_same_v<TB, precision::tf32> ? ::gantry::emu::tf32_operand(v) : v;
  }
  for (int i = 0; i < FC::num_elements; ++i) tc[t.lane * FC::num_elements + i] = static_cast<float>(c.x[i]);
  t.block->warp_arrive(detail::kFullWarp, GANTRY_EMU_WMMA_SITE("wmma::mma_sync"));
  for (int i = 0; i < FC::num_elements; ++i) {
    const int r = FC::row_of(t.lane, i), col = FC::col_of(t.lane, i);
    float sum = tc[r * N + col];
    for (int k = 0; k < K; ++k) sum += ta[r * K + k] * tb[k * N + col];
    d.x[i] = static_cast<TC>(sum);
  }
}

}  // namespace nvcuda::wmma
