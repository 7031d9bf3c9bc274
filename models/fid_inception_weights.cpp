#include "models/fid_inception_weights.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/checksums.h"
#include "engine/io/digest.h"
#include "engine/io/safetensors.h"
#include "engine/io/torch_checkpoint.h"
#include "engine/ops/ops.h"

namespace gantry::models {
namespace {

namespace fs = std::filesystem;

struct ExpectedKey {
  Shape shape;
  bool optional = false;  // num_batches_tracked: carries nothing the network uses
};
using ExpectedKeys = std::map<std::string, ExpectedKey>;
using FoundShapes = std::vector<std::pair<std::string, Shape>>;

const Shape kFcWeightShape{kInceptionClasses, kInceptionFeatureDim};

// pytorch-fid's 566 keys.
ExpectedKeys state_dict_keys() {
  ExpectedKeys keys;
  for (const InceptionConvSpec& c : fid_inception_convs()) {
    keys[c.name + ".conv.weight"] = {c.weight_shape()};
    for (const char* bn : {".bn.weight", ".bn.bias", ".bn.running_mean", ".bn.running_var"})
      keys[c.name + bn] = {{c.out_channels}};
    keys[c.name + ".bn.num_batches_tracked"] = {{}, true};
  }
  keys["fc.weight"] = {kFcWeightShape};
  keys["fc.bias"] = {{kInceptionClasses}};
  return keys;
}

// The network's own folded keys, for the whole network or through Mixed_7a.
ExpectedKeys folded_keys(InceptionExtent extent) {
  const bool full = extent == InceptionExtent::full;
  ExpectedKeys keys;
  for (const InceptionConvSpec& c : fid_inception_convs()) {
    if (!full && !c.in_mixed_7a_extent) continue;
    keys[c.name + ".weight"] = {c.weight_shape()};
    keys[c.name + ".bias"] = {{c.out_channels}};
  }
  if (full) {
    keys["fc.weight"] = {kFcWeightShape};
    keys["fc.bias"] = {{kInceptionClasses}};
  }
  return keys;
}

std::string list_some(const std::vector<std::string>& items, size_t most = 8) {
  std::string s;
  for (size_t i = 0; i < items.size() && i < most; ++i) s += (i ? ", " : "") + items[i];
  if (items.size() > most) s += ", ... (" + std::to_string(items.size()) + " in all)";
  return s;
}

// torchvision's ImageNet Inception-v3 has AuxLogits and 1000 classes: same skeleton, other weights,
// FIDs not comparable with anyone's.
void refuse_torchvision_inception(const std::string& path, const FoundShapes& found) {
  for (const auto& [name, shape] : found)
    if (name.starts_with("AuxLogits.") || (name == "fc.weight" && !shape.empty() && shape[0] == 1000))
      throw Error(path +
                  " is torchvision's ImageNet Inception-v3 (1000 classes, AuxLogits), not the FID network: "
                  "its features give numbers no FID is comparable with. FID needs pytorch-fid's " +
                  kFidInceptionFileName + " (" + kFidInceptionUrl + ")");
}

void check_keys(const std::string& path, const FoundShapes& found, const ExpectedKeys& expected) {
  refuse_torchvision_inception(path, found);
  std::vector<std::string> extra, misshapen, missing;
  std::set<std::string> seen;
  for (const auto& [name, shape] : found) {
    seen.insert(name);
    const auto it = expected.find(name);
    if (it == expected.end()) extra.push_back(name);
    else if (shape != it->second.shape)
      misshapen.push_back(name + " is " + shape_str(shape) + ", expected " + shape_str(it->second.shape));
  }
  for (const auto& [name, key] : expected)
    if (!key.optional && !seen.contains(name)) missing.push_back(name);
  if (extra.empty() && misshapen.empty() && missing.empty()) return;
  std::ostringstream m;
  m << path << " is not the FID Inception network's state dict:";
  if (!missing.empty()) m << " missing " << missing.size() << " keys (" << list_some(missing) << ");";
  if (!extra.empty()) m << " " << extra.size() << " unexpected keys (" << list_some(extra) << ");";
  if (!misshapen.empty()) m << " " << misshapen.size() << " misshapen (" << list_some(misshapen, 4) << ");";
  m << " pytorch-fid's " << kFidInceptionFileName << " has " << state_dict_keys().size() << " keys";
  throw Error(m.str());
}

const Tensor& find(const nn::StateDict& sd, const std::string& name) {
  for (const auto& [n, t] : sd)
    if (n == name) return t;
  throw Error("internal: tensor " + name + " not loaded");
}

// From pytorch-fid's keys to the network's folded ones.
nn::StateDict fold_state_dict(const nn::StateDict& sd) {
  nn::StateDict folded;
  for (const InceptionConvSpec& c : fid_inception_convs()) {
    const std::string p = c.name;
    auto [w, b] =
        fold_inception_batch_norm(find(sd, p + ".conv.weight"), find(sd, p + ".bn.weight"), find(sd, p + ".bn.bias"),
                                  find(sd, p + ".bn.running_mean"), find(sd, p + ".bn.running_var"));
    folded.emplace_back(p + ".weight", w);
    folded.emplace_back(p + ".bias", b);
  }
  folded.emplace_back("fc.weight", find(sd, "fc.weight").to(DType::f32).contiguous());
  folded.emplace_back("fc.bias", find(sd, "fc.bias").to(DType::f32).contiguous());
  return folded;
}

// The tensors a network of `extent` has, in network order (stem, blocks, fc): the order the digest and
// a saved file use.
nn::StateDict in_network_order(const nn::StateDict& sd, InceptionExtent extent) {
  const bool full = extent == InceptionExtent::full;
  nn::StateDict out;
  for (const InceptionConvSpec& c : fid_inception_convs()) {
    if (!full && !c.in_mixed_7a_extent) continue;
    out.emplace_back(c.name + ".weight", find(sd, c.name + ".weight").to(DType::f32).contiguous());
    out.emplace_back(c.name + ".bias", find(sd, c.name + ".bias").to(DType::f32).contiguous());
  }
  if (full) {
    out.emplace_back("fc.weight", find(sd, "fc.weight").to(DType::f32).contiguous());
    out.emplace_back("fc.bias", find(sd, "fc.bias").to(DType::f32).contiguous());
  }
  return out;
}

std::string weights_digest(const nn::StateDict& folded) {
  std::string bytes;
  for (const auto& [name, t] : folded) {
    bytes += name;
    bytes.append(reinterpret_cast<const char*>(t.data_ptr<float>()), static_cast<size_t>(t.numel()) * sizeof(float));
  }
  return io::fnv1a64_hex(bytes);
}

std::vector<float> read_floats(const fs::path& file, int64_t count) {
  const std::string bytes = io::read_file(file.string());
  const size_t want = static_cast<size_t>(count) * sizeof(float);
  if (bytes.size() != want)
    throw Error(file.string() + " has " + std::to_string(bytes.size()) + " bytes, expected " + std::to_string(want) +
                " (" + std::to_string(count) + " float32 values)");
  std::vector<float> v(static_cast<size_t>(count));
  std::memcpy(v.data(), bytes.data(), want);
  return v;
}

FidInceptionWeights load_dat_folder(const std::string& path) {
  FidInceptionWeights w;
  w.source = path;
  w.format = "dat folder";
  std::vector<std::string> missing_early;  // a layer the network through Mixed_7a needs
  bool have_7bc = true;
  for (const InceptionConvSpec& c : fid_inception_convs()) {
    const fs::path wf = fs::path(path) / ("weights_" + c.dat_basename() + ".dat");
    const fs::path bf = fs::path(path) / ("bias_" + c.dat_basename() + ".dat");
    std::vector<std::string> absent;
    for (const fs::path& f : {wf, bf})
      if (!fs::exists(f)) absent.push_back(f.filename().string());
    if (!absent.empty()) {
      for (const std::string& a : absent) (c.in_mixed_7a_extent ? missing_early : w.missing).push_back(a);
      if (!c.in_mixed_7a_extent) have_7bc = false;
      continue;
    }
    const Shape s = c.weight_shape();  // [O, I, KH, KW]; the file is [O][KH][KW][I]
    const std::vector<float> ohwi = read_floats(wf, shape_numel(s));
    Tensor weight = from_vector(ohwi, {s[0], s[2], s[3], s[1]}).permute({0, 3, 1, 2}).contiguous();
    w.folded.emplace_back(c.name + ".weight", weight);
    w.folded.emplace_back(c.name + ".bias", from_vector(read_floats(bf, c.out_channels), {c.out_channels}));
  }
  if (!missing_early.empty())
    throw Error(path + " lacks layers the network needs even through Mixed_7a: " + list_some(missing_early));
  const fs::path fcw = fs::path(path) / "weights_softmax.dat", fcb = fs::path(path) / "bias_softmax.dat";
  const bool have_fc = fs::exists(fcw) && fs::exists(fcb);
  if (have_fc) {
    // TF's softmax/weights is [2048][1008]; fc.weight is its transpose.
    const std::vector<float> tf = read_floats(fcw, kInceptionFeatureDim * kInceptionClasses);
    w.folded.emplace_back("fc.weight",
                          from_vector(tf, {kInceptionFeatureDim, kInceptionClasses}).transpose(0, 1).contiguous());
    w.folded.emplace_back("fc.bias", from_vector(read_floats(fcb, kInceptionClasses), {kInceptionClasses}));
  } else {
    for (const fs::path& f : {fcw, fcb})
      if (!fs::exists(f)) w.missing.push_back(f.filename().string());
  }
  w.extent = have_7bc && have_fc ? InceptionExtent::full : InceptionExtent::through_mixed_7a;
  return w;
}

FidInceptionWeights load_torch_file(const std::string& path) {
  const io::TorchCheckpointInfo info = io::inspect_torch_checkpoint(path);
  FoundShapes found;
  for (const io::TorchTensorInfo& t : info.tensors) found.emplace_back(t.name, t.shape);
  check_keys(path, found, state_dict_keys());
  FidInceptionWeights w;
  w.source = path;
  w.format = std::string("torch ") + io::torch_checkpoint_format_name(info.format);
  w.folded = fold_state_dict(io::load_torch_checkpoint(path));
  w.file_sha256 = io::sha256_file_hex(path);
  return w;
}

FidInceptionWeights load_safetensors_file(const std::string& path) {
  const io::TensorFile file = io::load_safetensors(path);
  FoundShapes found;
  bool folded_layout = false;
  for (const auto& [name, t] : file.tensors) {
    found.emplace_back(name, t.shape());
    folded_layout |= name == "Conv2d_1a_3x3.weight";
  }
  FidInceptionWeights w;
  w.source = path;
  w.file_sha256 = io::sha256_file_hex(path);
  if (folded_layout) {
    const auto extent = file.metadata.find("extent");
    if (extent != file.metadata.end() && extent->second == inception_extent_name(InceptionExtent::through_mixed_7a))
      w.extent = InceptionExtent::through_mixed_7a;
    check_keys(path, found, folded_keys(w.extent));
    w.format = "safetensors (folded)";
    w.folded = file.tensors;
  } else {
    check_keys(path, found, state_dict_keys());
    w.format = "safetensors";
    w.folded = fold_state_dict(file.tensors);
  }
  return w;
}

bool is_torch_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path);
  std::string head(4, '\0');
  in.read(head.data(), 4);
  head.resize(static_cast<size_t>(in.gcount()));
  return head == std::string("PK\3\4", 4) || (head.size() >= 1 && static_cast<unsigned char>(head[0]) == 0x80);
}

}  // namespace

std::pair<Tensor, Tensor> fold_inception_batch_norm(const Tensor& weight, const Tensor& gamma, const Tensor& beta,
                                                    const Tensor& running_mean, const Tensor& running_var) {
  const Tensor w = weight.to(DType::f32).contiguous(), g = gamma.to(DType::f32).contiguous(),
               b = beta.to(DType::f32).contiguous(), m = running_mean.to(DType::f32).contiguous(),
               v = running_var.to(DType::f32).contiguous();
  const int64_t out = w.shape()[0], per_out = w.numel() / out;
  Tensor fw = empty(w.shape(), DType::f32), fb = empty({out}, DType::f32);
  const float *pw = w.data_ptr<float>(), *pg = g.data_ptr<float>(), *pb = b.data_ptr<float>(),
              *pm = m.data_ptr<float>(), *pv = v.data_ptr<float>();
  float *qw = fw.data_ptr<float>(), *qb = fb.data_ptr<float>();
  for (int64_t o = 0; o < out; ++o) {
    // Float32 throughout, in this order: what reproduces the published folded files bit for bit.
    const float scale = pg[o] / std::sqrt(pv[o] + 0.001f);
    for (int64_t i = 0; i < per_out; ++i) qw[o * per_out + i] = pw[o * per_out + i] * scale;
    qb[o] = pb[o] - pm[o] * scale;
  }
  return {fw, fb};
}

std::string FidInceptionWeights::published_file() const {
  if (!format.starts_with("torch")) return "unknown";
  return file_sha256.starts_with(kFidInceptionSha256Prefix) ? "yes" : "no";
}

FidInceptionWeights load_fid_inception_weights(const std::string& path) {
  if (!fs::exists(path)) throw Error("FID Inception weights: " + path + " does not exist");
  FidInceptionWeights w;
  if (fs::is_directory(path)) w = load_dat_folder(path);
  else if (path.ends_with(".safetensors")) w = load_safetensors_file(path);
  else if (is_torch_checkpoint(path)) w = load_torch_file(path);
  else
    throw Error(path +
                " is neither a PyTorch checkpoint (.pth), a .safetensors file nor a folder of per-layer .dat files");
  w.folded = in_network_order(w.folded, w.extent);
  for (const auto& [name, t] : w.folded) {
    const float* p = t.data_ptr<float>();
    for (int64_t i = 0; i < t.numel(); ++i)
      if (!std::isfinite(p[i]))
        throw Error(path + ": weight " + name + " has a non-finite value at element " + std::to_string(i));
  }
  w.digest = weights_digest(w.folded);
  return w;
}

std::unique_ptr<FidInceptionV3> make_fid_inception(const FidInceptionWeights& weights, InceptionExtent extent,
                                                   Device device) {
  if (extent == InceptionExtent::full && weights.extent != InceptionExtent::full)
    throw Error("the full FID Inception network needs weights " + weights.source + " does not have (" +
                list_some(weights.missing) + "); it can run only through Mixed_7a. FID needs " + kFidInceptionFileName +
                " (" + kFidInceptionUrl + ")");
  auto net = std::make_unique<FidInceptionV3>(extent, kCPU);
  nn::StateDict sd;
  const nn::StateDict own = net->state_dict();
  for (const auto& [name, t] : own) sd.emplace_back(name, find(weights.folded, name));
  net->load_state_dict(sd, true);
  net->to(device);
  return net;
}

void save_fid_inception_weights(const std::string& path, const FidInceptionWeights& weights) {
  io::save_safetensors(path, weights.folded,
                       {{"format", "gantry FID Inception-v3, BatchNorm folded"},
                        {"extent", inception_extent_name(weights.extent)},
                        {"digest", weights.digest}});
}

}  // namespace gantry::models
