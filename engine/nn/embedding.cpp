#include "engine/nn/embedding.h"

#include "engine/nn/init.h"
#include "engine/ops/nn_ops.h"

namespace gantry::nn {

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim, Generator& gen, DType dtype, Device device) {
  GANTRY_CHECK(num_embeddings > 0 && embedding_dim > 0, "Embedding: expected positive sizes, got num_embeddings ",
               num_embeddings, ", embedding_dim ", embedding_dim);
  weight_ = register_parameter("weight", empty({num_embeddings, embedding_dim}, dtype, device));
  init::normal_(weight_, 0.0, 1.0, gen);
}

Embedding::Embedding(Tensor weight) {
  GANTRY_CHECK(weight.defined() && weight.dim() == 2 && weight.numel() > 0,
               "Embedding: expected a non-empty weight [num_embeddings, embedding_dim], got ",
               weight.defined() ? shape_str(weight.shape()) : std::string("an undefined tensor"));
  weight_ = register_parameter("weight", weight.detach());
}

Tensor Embedding::forward(const Tensor& indices) { return forward_with_weight(indices, weight_); }

Tensor Embedding::forward_with_weight(const Tensor& indices, const Tensor& weight) {
  GANTRY_CHECK(weight.defined() && weight.shape() == weight_.shape(), "Embedding(", num_embeddings(), ", ",
               embedding_dim(), "): expected a weight ", shape_str(weight_.shape()), ", got ",
               weight.defined() ? shape_str(weight.shape()) : std::string("an undefined tensor"));
  return embedding(indices, weight);
}

}  // namespace gantry::nn
