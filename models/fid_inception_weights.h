#pragma once
// Weights of the FID Inception network (models/fid_inception.h), from the files people have:
//  - pytorch-fid's pt_inception-2015-12-05-6726825d.pth, in the legacy torch.save format the real file
//    uses or the zip format of newer torch.save (engine/io/torch_checkpoint.h): 566 keys, each
//    BasicConv2d as "<prefix>.conv.weight" and "<prefix>.bn.{weight,bias,running_mean,running_var,
//    num_batches_tracked}", then "fc.weight" [1008, 2048] and "fc.bias";
//  - a .safetensors file with the same keys, or with the network's own folded keys ("<prefix>.weight",
//    "<prefix>.bias", "fc.weight", "fc.bias") as save_fid_inception_weights writes them;
//  - a folder of per-layer BatchNorm-folded files "weights_<tf name>.dat" (float32, OHWI) and
//    "bias_<tf name>.dat" (float32 [O]), TF graph names with '/' as '_' (InceptionConvSpec::dat_basename),
//    fc as "weights_softmax.dat" (float32 [2048][1008], TF's order) and "bias_softmax.dat".
// BatchNorm is folded at load in float32 with eps 0.001: W' = W g / sqrt(var + 0.001), b' = beta - mean
// g / sqrt(var + 0.001), the arithmetic that reproduces the published folded files bit for bit.
// A state dict with missing, extra or misshapen keys is refused naming them; torchvision's different
// Inception-v3 (1000 classes, AuxLogits) is recognised and refused as such. A folder that lacks only
// Mixed_7b/7c or fc layers gives weights for the network through Mixed_7a.
#include <string>
#include <vector>

#include "engine/nn/module.h"
#include "models/fid_inception.h"

namespace gantry::models {

// The published file's name and size.
inline constexpr const char* kFidInceptionFileName = "pt_inception-2015-12-05-6726825d.pth";
inline constexpr unsigned long long kFidInceptionFileBytes = 95628359ULL;
inline constexpr const char* kFidInceptionSha256Prefix = "6726825d";  // the name's hash: SHA-256's first digits
inline constexpr const char* kFidInceptionUrl =
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth";

struct FidInceptionWeights {
  nn::StateDict folded;  // the network's own state dict for `extent`
  InceptionExtent extent = InceptionExtent::full;
  std::string source;       // the path loaded
  std::string format;       // "torch legacy", "torch zip", "safetensors", "safetensors (folded)", "dat folder"
  std::string file_sha256;  // of a single-file source; empty for a folder
  // FNV-1a 64 of the folded float32 weights in network order: the same weights give the same digest
  // whichever file they came from.
  std::string digest;
  std::vector<std::string> missing;  // what a partial folder lacks (file names), empty when full

  // Whether the file is the published one, as far as its SHA-256 can tell: "yes" (a .pth whose
  // SHA-256 starts with the published name's digits), "no" (a .pth that does not), "unknown" (other
  // formats, whose bytes differ from the published file's even for the same weights).
  std::string published_file() const;
};

FidInceptionWeights load_fid_inception_weights(const std::string& path);
// Folds BatchNorm into an OIHW convolution weight: {W', b'} as above (all float32 CPU tensors).
std::pair<Tensor, Tensor> fold_inception_batch_norm(const Tensor& weight, const Tensor& gamma, const Tensor& beta,
                                                    const Tensor& running_mean, const Tensor& running_var);
// Builds the network (`extent`, at most what the weights allow: asking for the full network with
// weights through Mixed_7a throws, naming what is missing) on `device` and loads the weights.
std::unique_ptr<FidInceptionV3> make_fid_inception(const FidInceptionWeights& weights, InceptionExtent extent,
                                                   Device device = kCPU);
// Writes the folded weights as safetensors (loads faster than a .pth and is what the loader reads back).
void save_fid_inception_weights(const std::string& path, const FidInceptionWeights& weights);

}  // namespace gantry::models
