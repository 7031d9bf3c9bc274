#pragma once
// Embedding: a lookup table weight [num_embeddings, embedding_dim] initialised N(0, 1) like
// torch.nn.Embedding; forward maps int64 indices of any shape to indices.shape + [embedding_dim].
#include "engine/nn/module.h"
#include "engine/random/generator.h"

namespace gantry::nn {

class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim, Generator& gen, DType dtype = DType::f32,
            Device device = kCPU);

  Tensor forward(const Tensor& indices) override;

  int64_t num_embeddings() const { return weight_.shape()[0]; }
  int64_t embedding_dim() const { return weight_.shape()[1]; }
  const Tensor& weight() const { return weight_; }

 private:
  Tensor weight_;
};

}  // namespace gantry::nn
