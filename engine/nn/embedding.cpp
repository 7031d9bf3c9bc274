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

Tensor Embedding::forward(const Tensor& indices) { return embedding(indices, weight_); }

}  // namespace gantry::nn
