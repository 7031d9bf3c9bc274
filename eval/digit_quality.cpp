#include "eval/digit_quality.h"

#include <algorithm>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/core/error.h"
#include "engine/nn/conv.h"
#include "engine/nn/linear.h"
#include "engine/ops/ops.h"
#include "engine/optim/adam.h"
#include "train/data/image_batch_loader.h"

namespace gantry::eval {

namespace {

constexpr int64_t kClasses = 10;

void check_digit_images(const Tensor& images, int64_t size) {
  GANTRY_CHECK(images.dim() == 4 && images.size(1) == 1 && images.size(2) == size && images.size(3) == size,
               "digit quality: expected images [N, 1, ", size, ", ", size, "], got ", shape_str(images.shape()));
}

// Cross-entropy of logits [N, 10] against i64 labels [N].
Tensor cross_entropy(const Tensor& logits, const Tensor& labels) {
  const Tensor picked = gather(log_softmax(logits, 1), 1, labels.reshape({labels.numel(), 1}));
  return neg(mean(picked));
}

}  // namespace

DigitClassifier::DigitClassifier(int64_t image_size, Generator& gen) : image_size_(image_size) {
  GANTRY_CHECK(image_size >= 8 && image_size % 4 == 0, "digit classifier: the image size must be a multiple of 4 "
                                                       "and at least 8, got ", image_size);
  nn::Conv2dOptions down;
  down.stride = {2, 2};
  down.padding = {1, 1};
  conv1_ = register_module("conv1", std::make_shared<nn::Conv2d>(1, 16, Size2{4, 4}, gen, down));
  conv2_ = register_module("conv2", std::make_shared<nn::Conv2d>(16, 32, Size2{4, 4}, gen, down));
  const int64_t side = image_size / 4;
  fc_ = register_module("fc", std::make_shared<nn::Linear>(32 * side * side, kClasses, true, gen));
}

Tensor DigitClassifier::forward(const Tensor& x) {
  const Tensor h = relu((*conv2_)(relu((*conv1_)(x))));
  return (*fc_)(h.reshape({x.size(0), -1}));
}

TrainedDigitClassifier train_digit_classifier(const data::ImageDataset& train, const data::ImageDataset& test,
                                              const DigitClassifierOptions& o) {
  const auto& info = train.info();
  GANTRY_CHECK(info.num_classes == kClasses && info.channels == 1 && info.height == info.width,
               "digit classifier: needs a labelled 1-channel square digit dataset with 10 classes, got '", info.name,
               "'");
  Generator gen(o.seed);
  TrainedDigitClassifier out;
  out.net = std::make_shared<DigitClassifier>(info.height, gen);
  optim::Adam adam(out.net->parameters(), optim::AdamOptions{o.lr});
  // The dataset object is shared by the loader: wrap without owning (it outlives this call).
  const std::shared_ptr<const data::ImageDataset> view(&train, [](const data::ImageDataset*) {});
  data::ImageLoaderOptions loader_options;
  loader_options.batch_size = o.batch;
  loader_options.seed = o.seed;
  data::ImageBatchLoader loader(view, loader_options);
  const std::vector<Tensor> params = out.net->parameters();
  for (int64_t step = 0; step < o.steps; ++step) {
    const data::ImageBatch b = loader.next();
    const Tensor loss = cross_entropy((*out.net)(b.images), b.labels);
    const TensorList grads = autograd::grad({loss}, params);
    for (size_t i = 0; i < params.size(); ++i) params[i].set_grad(grads[i]);
    adam.step();
  }
  // Accuracy on the whole test split, in batches.
  const std::shared_ptr<const data::ImageDataset> test_view(&test, [](const data::ImageDataset*) {});
  data::ImageLoaderOptions eval_options;
  eval_options.batch_size = std::min<int64_t>(500, test.info().size);
  data::ImageBatchLoader test_loader(test_view, eval_options);
  int64_t correct = 0, seen = 0;
  NoGradGuard no_grad;
  for (int64_t b = 0; b < test_loader.batches_per_epoch(); ++b) {
    const data::ImageBatch batch = test_loader.next();
    const Tensor predicted = argmax((*out.net)(batch.images), 1);
    correct += sum(eq(predicted, batch.labels).to(DType::i64)).item<int64_t>();
    seen += batch.labels.numel();
  }
  out.test_accuracy = static_cast<double>(correct) / static_cast<double>(seen);
  return out;
}

DigitQuality score_digits(DigitClassifier& classifier, const Tensor& images, double confidence,
                          double min_class_share) {
  check_digit_images(images, classifier.image_size());
  DigitQuality q;
  q.samples = images.size(0);
  q.confidence = confidence;
  q.min_class_share = min_class_share;
  q.confident_per_class.assign(kClasses, 0);
  NoGradGuard no_grad;
  const Tensor probabilities = softmax(classifier(images.to(kCPU)), 1).contiguous();
  const float* p = probabilities.data_ptr<float>();
  int64_t confident = 0;
  double max_sum = 0;
  for (int64_t i = 0; i < q.samples; ++i) {
    const float* row = p + i * kClasses;
    const int64_t best = std::max_element(row, row + kClasses) - row;
    max_sum += row[best];
    if (row[best] >= confidence) {
      ++confident;
      ++q.confident_per_class[static_cast<size_t>(best)];
    }
  }
  q.confident_share = static_cast<double>(confident) / static_cast<double>(q.samples);
  q.mean_max_probability = max_sum / static_cast<double>(q.samples);
  for (int64_t n : q.confident_per_class)
    if (static_cast<double>(n) >= min_class_share * static_cast<double>(q.samples)) ++q.classes_covered;
  return q;
}

nlohmann::json DigitQuality::to_json() const {
  return {{"samples", samples},
          {"confidence", confidence},
          {"confident_share", confident_share},
          {"mean_max_probability", mean_max_probability},
          {"confident_per_class", confident_per_class},
          {"classes_covered", classes_covered},
          {"min_class_share", min_class_share}};
}

}  // namespace gantry::eval
