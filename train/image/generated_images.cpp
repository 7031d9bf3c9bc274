#include "train/image/generated_images.h"

#include "engine/autograd/grad_mode.h"
#include "engine/core/error.h"

namespace gantry::image {

GeneratedImages::GeneratedImages(LoadedImageRun& run, uint64_t seed) : run_(run), gen_(seed) {
  run_.nets.generator->eval();
}

GeneratedBatch GeneratedImages::next(int64_t n) {
  GANTRY_CHECK(n >= 1, "GeneratedImages: batch must be >= 1, got ", n);
  NoGradGuard no_grad;
  const models::ImageGanConfig& arch = run_.nets.config;
  GeneratedBatch b;
  const Tensor z = randn({n, arch.latent_dim}, gen_);
  if (arch.num_classes > 0) b.labels = randint(0, arch.num_classes, {n}, gen_);
  b.images = run_.nets.generate(z, b.labels);
  return b;
}

}  // namespace gantry::image
