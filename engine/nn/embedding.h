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
  // `weight` itself (detached, storage shared) as the table, like torch's Embedding.from_pretrained
  // with freeze = False: for tables that start as constants, such as a conditional batch norm's gains.
  explicit Embedding(Tensor weight);

  Tensor forward(const Tensor& indices) override;
  // The lookup in `weight` (same shape as the layer's own) instead of its own: the hook through which
  // a reparametrisation such as SpectralNormed supplies the table it computes.
  Tensor forward_with_weight(const Tensor& indices, const Tensor& weight);

  int64_t num_embeddings() const { return weight_.shape()[0]; }
  int64_t embedding_dim() const { return weight_.shape()[1]; }
  const Tensor& weight() const { return weight_; }

 private:
  Tensor weight_;
};

}  // namespace gantry::nn
