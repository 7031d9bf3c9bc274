#include "models/layer_init.h"

#include "engine/nn/init.h"

namespace gantry::models {

void xavier_init_layer(nn::Module& layer, double gain, Generator& gen) {
  bool found_weight = false;
  for (const auto& [name, p] : layer.named_parameters()) {
    if (name == "weight" || name == "weight_orig") {
      nn::init::xavier_uniform_(p, gen, gain);
      found_weight = true;
    } else if (name == "bias") {
      nn::init::zeros_(p);
    } else {
      GANTRY_CHECK(false, "xavier_init_layer: unexpected parameter '", name, "' (expected a weight layer)");
    }
  }
  GANTRY_CHECK(found_weight, "xavier_init_layer: the layer has no weight or weight_orig parameter");
}

}  // namespace gantry::models
