#include "train/image/generated_images.h"

#include "engine/autograd/grad_mode.h"
#include "engine/core/error.h"

namespace gantry::image {

GeneratedImages::GeneratedImages(models::ImageGanModels& nets, uint64_t seed) : nets_(nets), gen_(seed) {}

GeneratedBatch GeneratedImages::next(int64_t n) {
  GANTRY_CHECK(n >= 1, "GeneratedImages: batch must be >= 1, got ", n);
  NoGradGuard no_grad;
  const models::ImageGanConfig& arch = nets_.config;
  const Device device = nets_.generator->parameters().front().device();
  GeneratedBatch b;
  const Tensor z = randn({n, arch.latent_dim}, gen_).to(device);
  if (arch.num_classes > 0) b.labels = randint(0, arch.num_classes, {n}, gen_).to(device);
  const bool was_training = nets_.generator->is_training();
  nets_.generator->eval();
  b.images = nets_.generate(z, b.labels);
  nets_.generator->train(was_training);
  return b;
}

}  // namespace gantry::image
