#pragma once
// Multi-tensor launches: one kernel launch updates a list of tensors of different sizes. The host
// splits the tensors into chunks of at most kTensorChunkElements, uploads the chunk table and a
// per-tensor descriptor table (pointers, per-tensor scalars) into one workspace without
// synchronising, and each block of the launch processes one chunk:
//
//   const TensorChunk c = chunks[blockIdx.x];
//   const Desc t = tensors[c.tensor];
//   for (int64_t i = c.begin + threadIdx.x; i < c.end; i += blockDim.x) ...
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "engine/core/tensor.h"
#include "kernels/cuda/runtime.h"
#include "kernels/cuda/workspace.h"

namespace gantry::cuda {

constexpr int kMultiTensorThreads = 256;
constexpr int64_t kTensorChunkElements = 64 * 1024;

struct TensorChunk {
  int32_t tensor;
  int64_t begin, end;
};

// Uploads the chunk table and the descriptor table, then calls `launch(chunks, tensors, num_chunks,
// stream)`, which launches one block per chunk. `sizes[t]` is the element count of tensors[t].
template <typename Desc, typename Launch>
void run_multi_tensor(const std::vector<Desc>& tensors, const std::vector<int64_t>& sizes, Device device,
                      Launch launch) {
  std::vector<TensorChunk> chunks;
  for (size_t t = 0; t < tensors.size(); ++t)
    for (int64_t b = 0; b < sizes[t]; b += kTensorChunkElements)
      chunks.push_back(TensorChunk{static_cast<int32_t>(t), b, std::min(sizes[t], b + kTensorChunkElements)});
  if (chunks.empty()) return;
  const size_t chunk_bytes = chunks.size() * sizeof(TensorChunk);
  const size_t table_offset = (chunk_bytes + 255) / 256 * 256;
  const size_t total = table_offset + tensors.size() * sizeof(Desc);
  std::vector<char> host(total);
  std::memcpy(host.data(), chunks.data(), chunk_bytes);
  std::memcpy(host.data() + table_offset, tensors.data(), tensors.size() * sizeof(Desc));
  DeviceGuard guard(device);
  const cudaStream_t stream = current_stream(device.index);
  Workspace ws(total, device.index);
  upload_async(ws.data(), host.data(), total, device.index, stream);  // no host-device synchronisation
  launch(reinterpret_cast<const TensorChunk*>(ws.data()), reinterpret_cast<const Desc*>(ws.as<char>() + table_offset),
         static_cast<unsigned>(chunks.size()), stream);
  GANTRY_CUDA_LAUNCH_CHECK();
}

// Throws unless `t` is a contiguous tensor with `like`'s shape, dtype and device.
inline void check_slot_tensor(const Tensor& t, const Tensor& like, const char* op, const char* name) {
  GANTRY_CHECK(t.defined() && t.device() == like.device() && t.dtype() == like.dtype() && t.is_contiguous() &&
                   t.shape() == like.shape(),
               op, ": ", name, " must be a contiguous ", dtype_name(like.dtype()), " tensor of shape ",
               shape_str(like.shape()), " on ", like.device().str());
}

}  // namespace gantry::cuda
