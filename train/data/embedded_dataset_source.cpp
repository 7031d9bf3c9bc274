#include "train/data/embedded_dataset_source.h"

#include <cmath>

#include "engine/ops/ops.h"
#include "engine/random/generator.h"

namespace gantry::data {

EmbeddedDatasetSource::EmbeddedDatasetSource(Tensor examples, Tensor embeddings)
    : examples_(std::move(examples)), embeddings_(std::move(embeddings)) {
  GANTRY_CHECK(examples_.defined() && embeddings_.defined() && examples_.dim() >= 1 && embeddings_.dim() == 2,
               "EmbeddedDatasetSource: expected examples [N, ...] and embeddings [N, d]");
  GANTRY_CHECK(examples_.size(0) >= 1 && examples_.size(0) == embeddings_.size(0),
               "EmbeddedDatasetSource: examples ", shape_str(examples_.shape()), " and embeddings ",
               shape_str(embeddings_.shape()), " must have the same number of rows (>= 1)");
  GANTRY_CHECK(examples_.device() == embeddings_.device(),
               "EmbeddedDatasetSource: examples and embeddings must be on the same device");
}

train::DrawnExamples EmbeddedDatasetSource::draw(int64_t n, Generator& gen) {
  GANTRY_CHECK(n >= 1, "EmbeddedDatasetSource::draw: n must be >= 1, got ", n);
  const Tensor idx = randint(0, size(), {n}, gen, examples_.device());
  return {index_select(examples_, 0, idx), index_select(embeddings_, 0, idx)};
}

std::string EmbeddedDatasetSource::describe() const {
  return "dataset of " + std::to_string(size()) + " examples (embeddings " + shape_str(embeddings_.shape()) + ")";
}

Tensor random_gaussian_projection(const Tensor& embeddings, int64_t dims, Generator& gen) {
  GANTRY_CHECK(embeddings.defined() && embeddings.dim() == 2 && is_floating(embeddings.dtype()),
               "random_gaussian_projection: expected float embeddings [N, D], got ",
               embeddings.defined() ? shape_str(embeddings.shape()) : std::string("an undefined tensor"));
  GANTRY_CHECK(dims >= 1, "random_gaussian_projection: dims must be >= 1, got ", dims);
  const Tensor r = randn({embeddings.size(1), dims}, gen, embeddings.dtype(), embeddings.device());
  return mul(matmul(embeddings, r), 1.0 / std::sqrt(static_cast<double>(dims)));
}

}  // namespace gantry::data
