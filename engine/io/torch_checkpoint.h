#pragma once
// PyTorch checkpoints written by torch.save of a state dict (a dict or OrderedDict of tensor names to
// tensors), in both of its formats, detected by their first bytes:
//  - zip (torch.save since 1.6): "PK\3\4"; members <prefix>/data.pkl (the pickled state dict) and
//    <prefix>/data/<storage key> (each storage's raw little-endian bytes);
//  - legacy (`_use_new_zipfile_serialization=False`, and pytorch-fid's Inception weights): five
//    pickles in a row (the magic number 0x1950a86a20f9469cfc6c, protocol 1001, sys_info, the state
//    dict, the list of storage keys) and then, per storage in that list's order, an int64 element
//    count and the raw little-endian data.
// The pickles are read by the restricted reader of engine/io/pickle.h: only the globals a state dict
// needs are accepted (collections.OrderedDict, torch._utils._rebuild_tensor_v2 and
// _rebuild_parameter, the torch.*Storage types), nothing is executed. Tensors are views (sizes,
// strides, storage offset) of storages that several tensors may share; loading honours them and
// returns each tensor contiguous on the CPU. Storage dtypes: FloatStorage (f32), DoubleStorage (f64),
// LongStorage (i64), ByteStorage (u8); others are refused by name. Every problem (truncated file,
// corrupt pickle or zip, a foreign global, a view outside its storage) is a gantry::Error naming the
// file and, where there is one, the byte offset.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/tensor.h"

namespace gantry::io {

enum class TorchCheckpointFormat { legacy, zip };
const char* torch_checkpoint_format_name(TorchCheckpointFormat format);  // "legacy", "zip"

struct TorchStorageInfo {
  std::string key;   // the storage's key: "0", "1", ... (zip) or a number like "93945540982624" (legacy)
  std::string type;  // "FloatStorage", "LongStorage", ...
  DType dtype = DType::f32;
  std::string location;  // the device it was saved from ("cpu", "cuda:0"); loading puts it on the CPU
  int64_t numel = 0;
  uint64_t data_offset = 0;  // file offset of its first data byte
  bool in_file = false;      // whether all its data lies inside the file (false: the file is truncated)
};

struct TorchTensorInfo {
  std::string name;
  DType dtype = DType::f32;
  Shape shape;
  Shape strides;               // in elements
  int64_t storage_offset = 0;  // in elements
  size_t storage = 0;          // index into TorchCheckpointInfo::storages
  bool requires_grad = false;
};

struct TorchCheckpointInfo {
  std::string source;
  TorchCheckpointFormat format = TorchCheckpointFormat::zip;
  std::vector<TorchTensorInfo> tensors;    // state-dict order
  std::vector<TorchStorageInfo> storages;  // file order
  uint64_t file_size = 0;
  // The size a complete file has: legacy, the end of the last storage; zip, the archive's size.
  uint64_t expected_file_size = 0;

  const TorchStorageInfo& storage_of(const TorchTensorInfo& tensor) const { return storages.at(tensor.storage); }
  // Throws naming the missing tensor.
  const TorchTensorInfo& tensor(const std::string& name) const;
};

using TorchStateDict = std::vector<std::pair<std::string, Tensor>>;

// The header and pickles only: names, dtypes, shapes, strides, storage keys and offsets, without
// reading any storage data, so a truncated legacy file can still be inspected (its missing storages
// have in_file false).
TorchCheckpointInfo inspect_torch_checkpoint(const std::string& path);
// Every tensor of the state dict, in its order, contiguous CPU tensors. A truncated file throws
// naming its size and the size its storages need.
TorchStateDict load_torch_checkpoint(const std::string& path);
// Only the tensors named (in the order given); only their storages must lie inside the file.
TorchStateDict load_torch_tensors(const std::string& path, const std::vector<std::string>& names);

// The same from the file's bytes; `source` names it in errors (what the fuzz harness runs).
TorchCheckpointInfo parse_torch_checkpoint_info(std::string_view bytes, const std::string& source = "<memory>");
TorchStateDict parse_torch_checkpoint(std::string_view bytes, const std::string& source = "<memory>");
TorchStateDict parse_torch_tensors(std::string_view bytes, const std::vector<std::string>& names,
                                   const std::string& source = "<memory>");

}  // namespace gantry::io
