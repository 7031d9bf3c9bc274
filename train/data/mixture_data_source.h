#pragma once
// The mixture of Gaussians as a source of real examples: every draw is fresh from the distribution,
// and the 2-D coordinates are their own embedding for core-set selection.
#include "train/data/mixture_of_gaussians.h"
#include "train/samplers.h"

namespace gantry::data {

class MixtureDataSource final : public train::RealDataSource {
 public:
  // Points are drawn on the CPU (the same numbers on every device) and handed out on `device`.
  explicit MixtureDataSource(MixtureOfGaussians mixture, Device device = kCPU)
      : mixture_(std::move(mixture)), device_(device) {}
  train::DrawnExamples draw(int64_t n, Generator& gen) override {
    Tensor points = mixture_.sample(n, gen);
    if (device_ != kCPU) points = points.to(device_);
    return {points, points};
  }
  std::string describe() const override {
    return "mixture of " + std::to_string(mixture_.num_modes()) + " Gaussians";
  }
  const MixtureOfGaussians& mixture() const { return mixture_; }

 private:
  MixtureOfGaussians mixture_;
  Device device_;
};

}  // namespace gantry::data
