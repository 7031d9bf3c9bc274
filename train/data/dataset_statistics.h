#pragma once
// What `gantry data info` reports about a dataset: images per class and the per-channel mean and
// standard deviation of the pixels over [0, 1].
#include <cstdint>
#include <vector>

#include "train/data/image_dataset.h"

namespace gantry::data {

struct DatasetStatistics {
  std::vector<int64_t> class_counts;              // one per class; empty when unlabelled
  std::vector<double> channel_mean, channel_std;  // population std over every pixel of the channel
};

DatasetStatistics compute_dataset_statistics(const ImageDataset& dataset);

}  // namespace gantry::data
