#include "engine/io/torch_checkpoint.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/pickle.h"
#include "engine/io/zip_archive.h"

namespace gantry::io {

namespace {

static_assert(std::endian::native == std::endian::little, "torch checkpoint I/O assumes a little-endian host");

using pickle::Kind;
using pickle::Pickle;

// torch.serialization's MAGIC_NUMBER, 0x1950a86a20f9469cfc6c, as LONG1 writes it (little-endian).
constexpr std::string_view kLegacyMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
constexpr int64_t kLegacyProtocol = 1001;
constexpr size_t kMaxDims = 64;

const std::set<std::string, std::less<>>& allowed_globals() {
  static const std::set<std::string, std::less<>> globals = [] {
    std::set<std::string, std::less<>> g = {"collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                                            "torch._utils._rebuild_parameter",
                                            "torch._utils._rebuild_parameter_with_state"};
    // Storage types are only names here; the unsupported ones are refused by name when read.
    for (const char* t : {"Float", "Double", "Long", "Byte", "Half", "BFloat16", "Int", "Short", "Char", "Bool",
                          "ComplexFloat", "ComplexDouble"})
      g.insert(std::string("torch.") + t + "Storage");
    return g;
  }();
  return globals;
}

bool storage_dtype(const std::string& type, DType& dtype) {
  if (type == "FloatStorage") dtype = DType::f32;
  else if (type == "DoubleStorage") dtype = DType::f64;
  else if (type == "LongStorage") dtype = DType::i64;
  else if (type == "ByteStorage") dtype = DType::u8;
  else return false;
  return true;
}

// What the checkpoint's bytes hold besides the info: where the zip members are.
struct Parsed {
  TorchCheckpointInfo info;
  std::string zip_prefix;  // "archive/" or "<name>/"
};

// Reads the pickled state dict into info.tensors and info.storages (keys, types, sizes).
class StateDictReader {
 public:
  StateDictReader(const Pickle& p, TorchCheckpointInfo& info) : p_(p), info_(info) {}

  void read() {
    const pickle::Object& root = p_.root_object();
    if (root.kind == Kind::call)
      fail(root, "the pickled object is not a state dict (a dict of tensors) but a call of '" +
                     p_.at(root.items[0]).text + "'");
    if (root.kind != Kind::dict)
      fail(root, std::string("the pickled object is not a state dict (a dict of tensors) but a ") +
                     pickle::kind_name(root.kind));
    std::set<std::string> names;
    for (size_t i = 0; i + 1 < root.items.size(); i += 2) {
      const pickle::Object& key = p_.at(root.items[i]);
      if (key.kind != Kind::string)
        fail(key, std::string("a state dict key is a ") + pickle::kind_name(key.kind) + ", not a str");
      if (!names.insert(key.text).second) fail(key, "key '" + key.text + "' appears twice");
      info_.tensors.push_back(tensor(key.text, root.items[i + 1], true));
    }
  }

 private:
  [[noreturn]] void fail(const pickle::Object& at, const std::string& what) const {
    GANTRY_FAIL("torch checkpoint: '", info_.source, "': ", what, " (pickle object at byte offset ", at.offset, ")");
  }
  [[noreturn]] void fail(const std::string& name, const pickle::Object& at, const std::string& what) const {
    fail(at, "tensor '" + name + "': " + what);
  }
  const pickle::Object& tuple_of(const std::string& name, size_t index, const char* what) const {
    const pickle::Object& o = p_.at(index);
    if (o.kind != Kind::tuple)
      fail(name, o, std::string(what) + " is a " + pickle::kind_name(o.kind) + ", not a tuple");
    return o;
  }
  int64_t int_of(const std::string& name, size_t index, const char* what) const {
    const pickle::Object& o = p_.at(index);
    if (o.kind != Kind::integer)
      fail(name, o, std::string(what) + " is a " + pickle::kind_name(o.kind) + ", not an int");
    if (o.integer < 0) fail(name, o, std::string(what) + " is negative (" + std::to_string(o.integer) + ")");
    return o.integer;
  }
  std::string string_of(const std::string& name, size_t index, const char* what) const {
    const pickle::Object& o = p_.at(index);
    if (o.kind != Kind::string) fail(name, o, std::string(what) + " is a " + pickle::kind_name(o.kind) + ", not a str");
    return o.text;
  }
  Shape ints_of(const std::string& name, size_t index, const char* what) const {
    const pickle::Object& t = tuple_of(name, index, what);
    if (t.items.size() > kMaxDims) fail(name, t, std::string(what) + " has more than 64 dimensions");
    Shape out;
    for (const size_t item : t.items) out.push_back(int_of(name, item, what));
    return out;
  }

  // `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`,
  // possibly wrapped (once) in `_rebuild_parameter(data, requires_grad, backward_hooks[, state])`.
  TorchTensorInfo tensor(const std::string& name, size_t index, bool may_be_parameter) {
    const pickle::Object& call = p_.at(index);
    if (call.kind != Kind::call)
      fail(name, call, std::string("the value is a ") + pickle::kind_name(call.kind) + ", not a tensor");
    const std::string& callee = p_.at(call.items[0]).text;
    const pickle::Object& args = p_.at(call.items[1]);
    if (may_be_parameter &&
        (callee == "torch._utils._rebuild_parameter" || callee == "torch._utils._rebuild_parameter_with_state")) {
      if (args.items.size() < 2) fail(name, args, "_rebuild_parameter needs (data, requires_grad, ...)");
      TorchTensorInfo t = tensor(name, args.items[0], false);
      const pickle::Object& grad = p_.at(args.items[1]);
      if (grad.kind != Kind::boolean) fail(name, grad, "requires_grad is not a bool");
      t.requires_grad = grad.integer != 0;
      return t;
    }
    if (callee != "torch._utils._rebuild_tensor_v2")
      fail(name, call, "the value is made by '" + callee + "', not torch._utils._rebuild_tensor_v2 (a plain tensor)");
    if (args.items.size() != 6 && args.items.size() != 7)
      fail(name, args, "_rebuild_tensor_v2 has " + std::to_string(args.items.size()) + " arguments, not 6 or 7");
    TorchTensorInfo t;
    t.name = name;
    t.storage = storage(name, args.items[0]);
    t.dtype = info_.storages[t.storage].dtype;
    t.storage_offset = int_of(name, args.items[1], "the storage offset");
    t.shape = ints_of(name, args.items[2], "the size");
    t.strides = ints_of(name, args.items[3], "the stride");
    const pickle::Object& grad = p_.at(args.items[4]);
    if (grad.kind != Kind::boolean) fail(name, grad, "requires_grad is not a bool");
    t.requires_grad = grad.integer != 0;
    if (t.shape.size() != t.strides.size())
      fail(name, args, "size " + shape_str(t.shape) + " and stride " + shape_str(t.strides) + " differ in length");
    check_inside_storage(t, args);
    return t;
  }

  // The view must address only elements of its storage. Views with more elements than their storage
  // (overlapping or expanded ones, which torch.save writes as they are) are read, but their excess
  // over all tensors is bounded, so a small hostile file cannot make loading allocate without limit.
  void check_inside_storage(const TorchTensorInfo& t, const pickle::Object& at) {
    const TorchStorageInfo& s = info_.storages[t.storage];
    const auto numel_limit = static_cast<unsigned __int128>(s.numel);
    unsigned __int128 numel = 1, last = static_cast<unsigned __int128>(t.storage_offset);
    bool empty = false;
    // The non-zero dimensions' product bounds the strides of the contiguous copy, so it must fit
    // int64 even when a zero dimension empties the tensor.
    unsigned __int128 nonzero_bytes = itemsize(t.dtype);
    for (size_t d = 0; d < t.shape.size(); ++d) {
      if (t.shape[d] == 0) empty = true;
      if (t.shape[d] > 0)
        nonzero_bytes =
            std::min<unsigned __int128>(nonzero_bytes * static_cast<uint64_t>(t.shape[d]), uint64_t{1} << 63);
      if (nonzero_bytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        fail(t.name, at, "size " + shape_str(t.shape) + " is too large");
      if (t.shape[d] > 0) last += static_cast<unsigned __int128>(t.shape[d] - 1) * static_cast<uint64_t>(t.strides[d]);
      numel = std::min<unsigned __int128>(numel * static_cast<uint64_t>(t.shape[d]), numel_limit + 1);
      last = std::min<unsigned __int128>(last, numel_limit + 1);
    }
    if (empty) return;
    const std::string where = "size " + shape_str(t.shape) + ", stride " + shape_str(t.strides) + ", storage offset " +
                              std::to_string(t.storage_offset) + " over storage '" + s.key + "' of " +
                              std::to_string(s.numel) + " elements";
    if (last >= numel_limit) fail(t.name, at, "the view reaches past the end of its storage (" + where + ")");
    if (numel <= numel_limit) return;
    // numel was capped at the storage's size + 1 above; the real product bounds the excess.
    unsigned __int128 full = 1;
    for (const int64_t d : t.shape)
      full = std::min<unsigned __int128>(full * static_cast<uint64_t>(d), kOverlapBudget + numel_limit + 1);
    const unsigned __int128 excess = full - numel_limit;
    if (excess > overlap_budget_)
      fail(t.name, at,
           "overlapping views expand past the limit of " + std::to_string(kOverlapBudget) +
               " elements more than their storages hold (" + where + ")");
    overlap_budget_ -= static_cast<uint64_t>(excess);
  }

  // Elements that overlapping views may add beyond their storages, over the whole file: 2^25 (256 MiB
  // of float64) keeps a hostile file's allocations small, and fits the FID network's 24M parameters.
  static constexpr uint64_t kOverlapBudget = uint64_t{1} << 25;
  uint64_t overlap_budget_ = kOverlapBudget;

  // The persistent id ('storage', torch.<Type>Storage, key, location, numel[, view_metadata]).
  size_t storage(const std::string& name, size_t index) {
    const pickle::Object& pid = p_.at(index);
    if (pid.kind != Kind::persistent_id) fail(name, pid, "the storage is not a persistent id");
    const pickle::Object& id = tuple_of(name, pid.items[0], "the storage's persistent id");
    if (id.items.size() != 5 && id.items.size() != 6)
      fail(name, id, "the storage's persistent id has " + std::to_string(id.items.size()) + " fields, not 5 or 6");
    if (string_of(name, id.items[0], "the persistent id's tag") != "storage")
      fail(name, id, "the persistent id's tag is not 'storage'");
    const pickle::Object& type = p_.at(id.items[1]);
    if (type.kind != Kind::global) fail(name, type, "the storage type is not a torch.*Storage global");
    TorchStorageInfo s;
    s.type = type.text.substr(type.text.rfind('.') + 1);
    if (!storage_dtype(s.type, s.dtype))
      fail(name, type,
           "storage type " + s.type +
               " is not supported (FloatStorage, DoubleStorage, LongStorage, "
               "ByteStorage are)");
    s.key = string_of(name, id.items[2], "the storage key");
    s.location = string_of(name, id.items[3], "the storage location");
    s.numel = int_of(name, id.items[4], "the storage's element count");
    if (id.items.size() == 6 && p_.at(id.items[5]).kind != Kind::none)
      fail(name, id, "storage views (a legacy pre-0.4 format) are not supported");
    if (static_cast<uint64_t>(s.numel) > std::numeric_limits<uint64_t>::max() / 8)
      fail(name, id, "the storage's element count is too large");
    const auto [it, inserted] = by_key_.emplace(s.key, info_.storages.size());
    if (inserted) {
      info_.storages.push_back(std::move(s));
    } else {
      const TorchStorageInfo& known = info_.storages[it->second];
      if (known.type != s.type || known.numel != s.numel)
        fail(name, id,
             "storage '" + s.key + "' is " + s.type + " of " + std::to_string(s.numel) + " elements here but " +
                 known.type + " of " + std::to_string(known.numel) + " before");
    }
    return it->second;
  }

  const Pickle& p_;
  TorchCheckpointInfo& info_;
  std::map<std::string, size_t> by_key_;
};

uint64_t storage_bytes(const TorchStorageInfo& s) { return static_cast<uint64_t>(s.numel) * itemsize(s.dtype); }

// Puts info.storages in file order, given each key's position there.
void order_storages(TorchCheckpointInfo& info, const std::map<std::string, size_t>& position) {
  std::vector<size_t> order(info.storages.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return position.at(info.storages[a].key) < position.at(info.storages[b].key); });
  std::vector<size_t> new_index(order.size());
  std::vector<TorchStorageInfo> sorted;
  for (size_t i = 0; i < order.size(); ++i) {
    new_index[order[i]] = i;
    sorted.push_back(std::move(info.storages[order[i]]));
  }
  info.storages = std::move(sorted);
  for (TorchTensorInfo& t : info.tensors) t.storage = new_index[t.storage];
}

Parsed parse_legacy(std::string_view bytes, const std::string& source) {
  const auto& globals = allowed_globals();
  Parsed parsed;
  TorchCheckpointInfo& info = parsed.info;
  info.source = source;
  info.format = TorchCheckpointFormat::legacy;
  info.file_size = bytes.size();
  const Pickle magic = pickle::read_pickle(bytes, 0, source, globals);
  GANTRY_CHECK(magic.root_object().kind == Kind::big_integer && magic.root_object().text == kLegacyMagic,
               "torch checkpoint: '", source,
               "' is a pickle but not a torch.save checkpoint: it does not start with torch.save's magic number");
  const Pickle protocol = pickle::read_pickle(bytes, magic.end, source, globals);
  GANTRY_CHECK(protocol.root_object().kind == Kind::integer && protocol.root_object().integer == kLegacyProtocol,
               "torch checkpoint: '", source, "': legacy protocol version is not ", kLegacyProtocol, " (byte offset ",
               protocol.begin, ")");
  const Pickle sys_info = pickle::read_pickle(bytes, protocol.end, source, globals);
  GANTRY_CHECK(sys_info.root_object().kind == Kind::dict, "torch checkpoint: '", source,
               "': the sys_info pickle at byte offset ", sys_info.begin, " is not a dict");
  const size_t little = pickle::dict_find(sys_info, sys_info.root_object(), "little_endian");
  GANTRY_CHECK(
      little != pickle::kNoObject && sys_info.at(little).kind == Kind::boolean && sys_info.at(little).integer == 1,
      "torch checkpoint: '", source, "' was not written on a little-endian machine (sys_info at byte offset ",
      sys_info.begin, "); only little-endian checkpoints are read");
  const Pickle state = pickle::read_pickle(bytes, sys_info.end, source, globals);
  StateDictReader(state, info).read();
  const Pickle keys = pickle::read_pickle(bytes, state.end, source, globals);
  const pickle::Object& list = keys.root_object();
  GANTRY_CHECK(list.kind == Kind::list, "torch checkpoint: '", source, "': the storage key list at byte offset ",
               keys.begin, " is a ", pickle::kind_name(list.kind), ", not a list");
  std::map<std::string, size_t> position;
  for (const size_t item : list.items) {
    const pickle::Object& k = keys.at(item);
    GANTRY_CHECK(k.kind == Kind::string, "torch checkpoint: '", source, "': a storage key at byte offset ", k.offset,
                 " is a ", pickle::kind_name(k.kind), ", not a str");
    GANTRY_CHECK(position.emplace(k.text, position.size()).second, "torch checkpoint: '", source, "': storage key '",
                 k.text, "' is listed twice");
  }
  std::set<std::string> referenced;
  for (const TorchStorageInfo& s : info.storages) {
    GANTRY_CHECK(position.contains(s.key), "torch checkpoint: '", source, "': storage '", s.key,
                 "' is used by a tensor but missing from the storage key list");
    referenced.insert(s.key);
  }
  for (const auto& [key, unused] : position)
    GANTRY_CHECK(referenced.contains(key), "torch checkpoint: '", source, "': storage '", key,
                 "' is listed but no tensor uses it (so its element size is unknown)");
  order_storages(info, position);
  // Each storage: an int64 element count, then its data.
  uint64_t at = keys.end;
  for (TorchStorageInfo& s : info.storages) {
    const uint64_t header = at;
    const uint64_t bytes_needed = storage_bytes(s);
    GANTRY_CHECK(bytes_needed <= std::numeric_limits<uint64_t>::max() - header - 8, "torch checkpoint: '", source,
                 "': storage '", s.key, "' is too large");
    s.data_offset = header + 8;
    at = s.data_offset + bytes_needed;
    s.in_file = at <= bytes.size();
    if (header + 8 <= bytes.size()) {
      int64_t count;
      std::memcpy(&count, bytes.data() + header, 8);
      GANTRY_CHECK(count == s.numel, "torch checkpoint: '", source, "': storage '", s.key, "' at byte offset ", header,
                   " records ", count, " elements but the state dict says ", s.numel, ": the file is corrupt");
    }
  }
  info.expected_file_size = at;
  GANTRY_CHECK(bytes.size() <= at, "torch checkpoint: '", source, "': ", bytes.size() - at,
               " unexpected bytes after the last storage (which ends at byte offset ", at, ")");
  return parsed;
}

Parsed parse_zip(std::string_view bytes, const std::string& source) {
  Parsed parsed;
  TorchCheckpointInfo& info = parsed.info;
  info.source = source;
  info.format = TorchCheckpointFormat::zip;
  info.file_size = info.expected_file_size = bytes.size();
  const ZipReader zip(bytes, source);
  const ZipMember* data_pkl = nullptr;
  bool torchscript = false;
  for (const ZipMember& m : zip.members()) {
    const size_t slash = m.name.find('/');
    const std::string_view rest =
        slash == std::string::npos ? std::string_view() : std::string_view(m.name).substr(slash + 1);
    if (rest == "data.pkl") {
      GANTRY_CHECK(data_pkl == nullptr, "torch checkpoint: '", source, "': more than one data.pkl ('", data_pkl->name,
                   "', '", m.name, "')");
      data_pkl = &m;
      parsed.zip_prefix = m.name.substr(0, slash + 1);
    }
    if (rest == "constants.pkl" || rest.starts_with("code/")) torchscript = true;
  }
  GANTRY_CHECK(!torchscript, "torch checkpoint: '", source,
               "' is a TorchScript archive (torch.jit.save), not a torch.save state dict");
  GANTRY_CHECK(data_pkl != nullptr, "torch checkpoint: '", source,
               "' is a zip archive without a <name>/data.pkl member: not a torch.save checkpoint");
  if (const ZipMember* order = zip.find(parsed.zip_prefix + "byteorder")) {
    const std::string byteorder = zip.read(*order);
    GANTRY_CHECK(byteorder == "little", "torch checkpoint: '", source, "' has byte order '", byteorder.substr(0, 16),
                 "'; only little-endian checkpoints are read");
  }
  const std::string pkl = zip.read(*data_pkl);
  const Pickle state = pickle::read_pickle(pkl, 0, source + "' member '" + data_pkl->name, allowed_globals());
  StateDictReader(state, info).read();
  std::map<std::string, size_t> position;
  for (TorchStorageInfo& s : info.storages) {
    const std::string member = parsed.zip_prefix + "data/" + s.key;
    const ZipMember* m = zip.find(member);
    GANTRY_CHECK(m != nullptr, "torch checkpoint: '", source, "': storage '", s.key, "' has no member '", member, "'");
    GANTRY_CHECK(m->size == storage_bytes(s), "torch checkpoint: '", source, "': member '", member, "' has ", m->size,
                 " bytes but storage '", s.key, "' is ", s.type, " of ", s.numel, " elements (", storage_bytes(s),
                 " bytes)");
    s.data_offset = m->data_offset;
    s.in_file = true;  // the zip reader checked every member lies inside the archive
    position[s.key] = m->data_offset;
  }
  order_storages(info, position);
  return parsed;
}

Parsed parse(std::string_view bytes, const std::string& source) {
  if (looks_like_zip(bytes)) return parse_zip(bytes, source);
  GANTRY_CHECK(!bytes.empty() && static_cast<uint8_t>(bytes[0]) == 0x80, "torch checkpoint: '", source,
               "' is not a PyTorch checkpoint: it starts neither as a zip archive (\"PK\\3\\4\") nor as a pickle "
               "(the legacy torch.save format)",
               bytes.empty() ? " (the file is empty)" : "");
  return parse_legacy(bytes, source);
}

// The storage's elements as a 1-D tensor.
Tensor read_storage(std::string_view bytes, const Parsed& parsed, size_t index) {
  const TorchCheckpointInfo& info = parsed.info;
  const TorchStorageInfo& s = info.storages[index];
  Tensor out = empty({s.numel}, s.dtype);
  if (info.format == TorchCheckpointFormat::zip) {
    const ZipReader zip(bytes, info.source);
    const std::string data = zip.read(*zip.find(parsed.zip_prefix + "data/" + s.key));
    if (!data.empty()) std::memcpy(out.raw_data(), data.data(), data.size());
  } else if (s.numel > 0) {
    std::memcpy(out.raw_data(), bytes.data() + s.data_offset, storage_bytes(s));
  }
  return out;
}

[[noreturn]] void fail_truncated(const TorchCheckpointInfo& info, const TorchStorageInfo& s,
                                 const std::string& tensor) {
  GANTRY_FAIL("torch checkpoint: '", info.source, "' is truncated: it has ", info.file_size,
              " bytes but its storages need ", info.expected_file_size, " (storage '", s.key, "' of tensor '", tensor,
              "', ", storage_bytes(s), " bytes at byte offset ", s.data_offset, ", lies past the end)");
}

TorchStateDict load(std::string_view bytes, const Parsed& parsed, const std::vector<size_t>& wanted) {
  const TorchCheckpointInfo& info = parsed.info;
  std::vector<size_t> uses(info.storages.size(), 0);
  for (const size_t t : wanted) {
    const TorchTensorInfo& tensor = info.tensors[t];
    if (!info.storage_of(tensor).in_file) fail_truncated(info, info.storage_of(tensor), tensor.name);
    ++uses[tensor.storage];
  }
  std::vector<Tensor> storages(info.storages.size());
  TorchStateDict out;
  for (const size_t t : wanted) {
    const TorchTensorInfo& tensor = info.tensors[t];
    Tensor& base = storages[tensor.storage];
    if (!base.defined()) base = read_storage(bytes, parsed, tensor.storage);
    Tensor view = make_view(base, tensor.shape, tensor.strides, tensor.storage_offset);
    // The only user of a storage that it covers exactly keeps it; every other view gets its own copy.
    const bool whole = uses[tensor.storage] == 1 && tensor.storage_offset == 0 && view.is_contiguous() &&
                       view.numel() == info.storage_of(tensor).numel;
    out.emplace_back(tensor.name, whole ? view : view.clone());
  }
  return out;
}

}  // namespace

const char* torch_checkpoint_format_name(TorchCheckpointFormat format) {
  return format == TorchCheckpointFormat::legacy ? "legacy" : "zip";
}

const TorchTensorInfo& TorchCheckpointInfo::tensor(const std::string& name) const {
  for (const TorchTensorInfo& t : tensors)
    if (t.name == name) return t;
  GANTRY_FAIL("torch checkpoint: '", source, "' has no tensor named '", name, "' (", tensors.size(), " tensors)");
}

TorchCheckpointInfo parse_torch_checkpoint_info(std::string_view bytes, const std::string& source) {
  return parse(bytes, source).info;
}

TorchStateDict parse_torch_checkpoint(std::string_view bytes, const std::string& source) {
  const Parsed parsed = parse(bytes, source);
  std::vector<size_t> all(parsed.info.tensors.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  // A truncated file is reported by its first missing storage, in file order.
  for (const TorchStorageInfo& s : parsed.info.storages)
    if (!s.in_file)
      for (const TorchTensorInfo& t : parsed.info.tensors)
        if (&parsed.info.storage_of(t) == &s) fail_truncated(parsed.info, s, t.name);
  return load(bytes, parsed, all);
}

TorchStateDict parse_torch_tensors(std::string_view bytes, const std::vector<std::string>& names,
                                   const std::string& source) {
  const Parsed parsed = parse(bytes, source);
  std::vector<size_t> wanted;
  for (const std::string& name : names) {
    const TorchTensorInfo& t = parsed.info.tensor(name);
    wanted.push_back(static_cast<size_t>(&t - parsed.info.tensors.data()));
  }
  return load(bytes, parsed, wanted);
}

TorchCheckpointInfo inspect_torch_checkpoint(const std::string& path) {
  return parse_torch_checkpoint_info(read_file(path), path);
}

TorchStateDict load_torch_checkpoint(const std::string& path) { return parse_torch_checkpoint(read_file(path), path); }

TorchStateDict load_torch_tensors(const std::string& path, const std::vector<std::string>& names) {
  return parse_torch_tensors(read_file(path), names, path);
}

}  // namespace gantry::io
