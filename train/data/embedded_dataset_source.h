#pragma once
// A finite training set as a RealDataSource for the core-set data sampler: the examples [N, ...] and
// one embedding row per example [N, d], computed once (Inception pool3, a feature layer, or the raw
// coordinates of low-dimensional data) and usually shrunk by a fixed random Gaussian projection.
// Draws are uniform with replacement over the whole set.
#include <cstdint>
#include <string>

#include "train/samplers.h"

namespace gantry::data {

class EmbeddedDatasetSource final : public train::RealDataSource {
 public:
  // examples and embeddings must have the same first dim N >= 1 and live on the same device.
  EmbeddedDatasetSource(Tensor examples, Tensor embeddings);
  train::DrawnExamples draw(int64_t n, Generator& gen) override;
  std::string describe() const override;
  int64_t size() const { return examples_.size(0); }

 private:
  Tensor examples_;
  Tensor embeddings_;
};

// embeddings [N, D] times a fixed Gaussian matrix [D, dims] scaled by 1/sqrt(dims) (so squared
// distances are preserved in expectation), drawn from `gen`. DESIGN: dims defaults to 32.
Tensor random_gaussian_projection(const Tensor& embeddings, int64_t dims, Generator& gen);

}  // namespace gantry::data
