#pragma once
// Block barriers and warp collectives (shuffles, __syncwarp) for emulated device code. Each call
// records its source line so a misuse is reported where it happens. Shuffles follow CUDA's rules:
// the calling lane must be in `mask`, every lane of `mask` must reach the same call, `width` splits
// the warp into groups, and a source lane outside the caller's group yields the caller's own value.
// Reading a lane that is not in `mask` is undefined in CUDA and a fault here.
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/cuda/emu/block_runner.h"

namespace gantry::emu {

inline void syncthreads(const SourceSite& site) { current_block().barrier(site); }

inline void syncwarp(const SourceSite& site, uint32_t mask = 0xffffffffu) { current_block().warp_arrive(mask, site); }

// Deposits `v`, waits for the lanes of `mask`, returns the value of lane source(lane) (own value
// when the source is outside the caller's group).
template <typename T, typename Source>
T warp_shuffle(const SourceSite& site, uint32_t mask, T v, Source source) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "shuffles move values of at most 8 bytes");
  ThreadState& t = current_thread();
  BlockRunner& block = *t.block;
  WarpState& w = block.warp_of(t);
  const int parity = w.parity;
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  w.value[parity][t.lane] = bits;
  block.warp_arrive(mask, site);
  const int src = source(t.lane);
  if (src == t.lane) return v;
  if ((mask & (uint32_t{1} << src)) == 0)
    block.fault(std::string(site.what) + " at " + site.file + ":" + std::to_string(site.line) + ": lane " +
                std::to_string(t.lane) + " reads lane " + std::to_string(src) + ", which is not in the mask");
  T r;
  std::memcpy(&r, &w.value[parity][src], sizeof(T));
  return r;
}

inline int group_base(int lane, int width) { return lane & ~(width - 1); }

template <typename T>
T shfl_sync(const SourceSite& site, uint32_t mask, T v, int src_lane, int width = kWarpSize) {
  return warp_shuffle(site, mask, v, [=](int lane) { return group_base(lane, width) + (src_lane & (width - 1)); });
}

template <typename T>
T shfl_up_sync(const SourceSite& site, uint32_t mask, T v, unsigned delta, int width = kWarpSize) {
  return warp_shuffle(site, mask, v, [=](int lane) {
    const int src = lane - static_cast<int>(delta);
    return src < group_base(lane, width) ? lane : src;
  });
}

template <typename T>
T shfl_down_sync(const SourceSite& site, uint32_t mask, T v, unsigned delta, int width = kWarpSize) {
  return warp_shuffle(site, mask, v, [=](int lane) {
    const int src = lane + static_cast<int>(delta);
    return src >= group_base(lane, width) + width ? lane : src;
  });
}

template <typename T>
T shfl_xor_sync(const SourceSite& site, uint32_t mask, T v, int lane_mask, int width = kWarpSize) {
  return warp_shuffle(site, mask, v, [=](int lane) {
    const int src = lane ^ lane_mask;
    return src >= group_base(lane, width) + width ? lane : src;
  });
}

}  // namespace gantry::emu

#define GANTRY_EMU_SITE(what) \
  ::gantry::emu::SourceSite { what, __FILE__, __LINE__ }
#define __syncthreads() ::gantry::emu::syncthreads(GANTRY_EMU_SITE("__syncthreads"))
#define __syncwarp(...) ::gantry::emu::syncwarp(GANTRY_EMU_SITE("__syncwarp") __VA_OPT__(, ) __VA_ARGS__)
#define __shfl_sync(...) ::gantry::emu::shfl_sync(GANTRY_EMU_SITE("__shfl_sync"), __VA_ARGS__)
#define __shfl_up_sync(...) ::gantry::emu::shfl_up_sync(GANTRY_EMU_SITE("__shfl_up_sync"), __VA_ARGS__)
#define __shfl_down_sync(...) ::gantry::emu::shfl_down_sync(GANTRY_EMU_SITE("__shfl_down_sync"), __VA_ARGS__)
#define __shfl_xor_sync(...) ::gantry::emu::shfl_xor_sync(GANTRY_EMU_SITE("__shfl_xor_sync"), __VA_ARGS__)
