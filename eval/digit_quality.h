#pragma once
// A quality check for generators of handwritten digits that a broken trainer fails: a small
// convolutional classifier trained by gantry on the real MNIST training split labels generated
// images; good generators give images it classifies confidently, spread over all ten classes.
// Noise, blobs and collapsed generators score low on one or both. It is a sanity check for CPU-sized
// runs (minutes), not a substitute for FID.
#include <cstdint>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/nn/module.h"
#include "engine/random/generator.h"
#include "train/data/image_dataset.h"

namespace gantry::eval {

struct DigitClassifierOptions {
  int64_t steps = 600;  // Adam steps (batch 128: about 1.3 epochs of MNIST)
  int64_t batch = 128;
  double lr = 1e-3;
  uint64_t seed = 0;
};

// conv(1 -> 16, 4x4, stride 2) + ReLU, conv(16 -> 32, 4x4, stride 2) + ReLU, linear -> 10 logits;
// images [N, 1, S, S] in [-1, 1] with S divisible by 4.
class DigitClassifier : public nn::Module {
 public:
  DigitClassifier(int64_t image_size, Generator& gen);
  Tensor forward(const Tensor& x) override;  // logits [N, 10]
  int64_t image_size() const { return image_size_; }

 private:
  int64_t image_size_;
  std::shared_ptr<nn::Module> conv1_, conv2_, fc_;
};

struct TrainedDigitClassifier {
  std::shared_ptr<DigitClassifier> net;
  double test_accuracy = 0;  // on the whole test split
};

// Trains on `train` (labelled, 1 channel, square) and measures accuracy on `test`.
TrainedDigitClassifier train_digit_classifier(const data::ImageDataset& train, const data::ImageDataset& test,
                                              const DigitClassifierOptions& options = {});

struct DigitQuality {
  int64_t samples = 0;
  double confidence = 0.9;           // the probability a confident label needs
  double confident_share = 0;        // samples labelled with at least `confidence`
  double mean_max_probability = 0;
  std::vector<int64_t> confident_per_class;  // [10]
  int64_t classes_covered = 0;       // classes holding at least `min_class_share` of the samples, confidently
  double min_class_share = 0.01;
  nlohmann::json to_json() const;
};

// Scores images [N, 1, S, S] in [-1, 1].
DigitQuality score_digits(DigitClassifier& classifier, const Tensor& images, double confidence = 0.9,
                          double min_class_share = 0.01);

}  // namespace gantry::eval
