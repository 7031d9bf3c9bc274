#include "models/mog_mlp.h"

#include "engine/nn/activations.h"
#include "engine/nn/linear.h"

namespace gantry::models {

std::shared_ptr<nn::Sequential> make_relu_mlp(int64_t in, int64_t hidden, int64_t hidden_layers, int64_t out,
                                              Generator& gen) {
  GANTRY_CHECK(in >= 1 && hidden >= 1 && hidden_layers >= 1 && out >= 1,
               "make_relu_mlp: sizes must be >= 1, got in ", in, " hidden ", hidden, " layers ", hidden_layers,
               " out ", out);
  auto net = std::make_shared<nn::Sequential>();
  int64_t width = in;
  for (int64_t i = 0; i < hidden_layers; ++i) {
    net->push_back(std::make_shared<nn::Linear>(width, hidden, true, gen));
    net->push_back(std::make_shared<nn::ReLU>());
    width = hidden;
  }
  net->push_back(std::make_shared<nn::Linear>(width, out, true, gen));
  return net;
}

std::shared_ptr<nn::Sequential> make_mog_generator(const MogMlpOptions& o, Generator& gen) {
  return make_relu_mlp(o.latent_dim, o.hidden, o.hidden_layers, o.data_dim, gen);
}

std::shared_ptr<nn::Sequential> make_mog_critic(const MogMlpOptions& o, Generator& gen) {
  return make_relu_mlp(o.data_dim, o.hidden, o.hidden_layers, 1, gen);
}

}  // namespace gantry::models
