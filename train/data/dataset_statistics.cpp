#include "train/data/dataset_statistics.h"

#include <cmath>

#include "engine/core/error.h"

namespace gantry::data {

DatasetStatistics compute_dataset_statistics(const ImageDataset& dataset) {
  const ImageDatasetInfo& info = dataset.info();
  const int64_t plane = info.height * info.width;
  DatasetStatistics stats;
  stats.class_counts.assign(static_cast<size_t>(info.num_classes), 0);
  // Integer sums are exact: 255^2 * pixels stays far below 2^63 for any dataset that fits on a disk.
  std::vector<uint64_t> sum(static_cast<size_t>(info.channels), 0), sum_sq(static_cast<size_t>(info.channels), 0);
  std::vector<uint8_t> pixels(static_cast<size_t>(info.channels * plane));
  for (int64_t i = 0; i < info.size; ++i) {
    const int64_t label = dataset.read(i, pixels.data());
    if (info.num_classes > 0) {
      GANTRY_CHECK(label >= 0 && label < info.num_classes, "dataset '", info.name, "': image ", i, " has label ",
                   label);
      ++stats.class_counts[static_cast<size_t>(label)];
    }
    for (int64_t c = 0; c < info.channels; ++c)
      for (int64_t p = 0; p < plane; ++p) {
        const uint64_t v = pixels[static_cast<size_t>(c * plane + p)];
        sum[static_cast<size_t>(c)] += v;
        sum_sq[static_cast<size_t>(c)] += v * v;
      }
  }
  const double n = static_cast<double>(info.size * plane);
  for (int64_t c = 0; c < info.channels; ++c) {
    const double mean = static_cast<double>(sum[static_cast<size_t>(c)]) / n;
    const double mean_sq = static_cast<double>(sum_sq[static_cast<size_t>(c)]) / n;
    stats.channel_mean.push_back(mean / 255.0);
    stats.channel_std.push_back(std::sqrt(std::max(0.0, mean_sq - mean * mean)) / 255.0);
  }
  return stats;
}

}  // namespace gantry::data
