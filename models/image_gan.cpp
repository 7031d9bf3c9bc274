#include "models/image_gan.h"

namespace gantry::models {

std::string shape_or_undefined(const Tensor& t) { return t.defined() ? shape_str(t.shape()) : "an undefined tensor"; }

void check_labels(const std::string& model, const Tensor& labels, int64_t num_classes, int64_t n) {
  if (num_classes == 0) {
    GANTRY_CHECK(!labels.defined(), model, ": the model is unconditional (num_classes 0) but labels ",
                 shape_str(labels.shape()), " were given");
    return;
  }
  GANTRY_CHECK(labels.defined() && labels.dtype() == DType::i64 && labels.dim() == 1 && labels.shape()[0] == n, model,
               ": expected int64 class labels [", n, "] in [0, ", num_classes, "), got ",
               labels.defined() ? std::string(dtype_name(labels.dtype())) + " " + shape_str(labels.shape())
                                : std::string("an undefined tensor"));
}

}  // namespace gantry::models
