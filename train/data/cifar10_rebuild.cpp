#include "train/data/cifar10_rebuild.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "train/data/cifar10_file.h"
#include "train/data/image_file_decoder.h"

namespace gantry::data {

namespace {

std::vector<int64_t> read_label_list(const std::string& path, int64_t expected_count) {
  const std::string text = io::read_file(path);
  nlohmann::json list;
  try {
    list = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    GANTRY_FAIL("CIFAR-10 labels '", path, "': not JSON (", e.what(), ")");
  }
  GANTRY_CHECK(list.is_array() && static_cast<int64_t>(list.size()) == expected_count, "CIFAR-10 labels '", path,
               "': expected a list of ", expected_count, " labels");
  std::vector<int64_t> labels;
  for (const auto& v : list) {
    GANTRY_CHECK(v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() < kCifar10Classes,
                 "CIFAR-10 labels '", path, "': label ", v.dump(), " at position ", labels.size(), " is not in 0..9");
    labels.push_back(v.get<int64_t>());
  }
  return labels;
}

// One batch PNG and its labels as the binary records.
std::string batch_records(const std::string& png_path, const std::vector<int64_t>& labels, int64_t first_label,
                          int64_t images_per_batch) {
  ImageShape shape;
  const std::vector<uint8_t> planes = decode_image_file(png_path, 3, &shape);
  GANTRY_CHECK(shape.width == kCifar10Side * kCifar10Side && shape.height == images_per_batch, "CIFAR-10 batch '",
               png_path, "': ", shape.width, " x ", shape.height, " pixels, expected 1024 x ", images_per_batch);
  const int64_t plane = shape.width * shape.height, row = shape.width;
  std::string records;
  records.reserve(static_cast<size_t>(images_per_batch * kCifar10RecordBytes));
  for (int64_t i = 0; i < images_per_batch; ++i) {
    records.push_back(static_cast<char>(labels[static_cast<size_t>(first_label + i)]));
    for (int64_t c = 0; c < 3; ++c) {
      const auto* begin = planes.data() + c * plane + i * row;
      records.append(reinterpret_cast<const char*>(begin), static_cast<size_t>(row));
    }
  }
  return records;
}

}  // namespace

void rebuild_cifar10_records(const std::string& package_folder, const std::string& out_folder,
                             const std::function<void(const std::string&)>& progress, int64_t images_per_batch) {
  namespace fs = std::filesystem;
  const fs::path in(package_folder), out(out_folder);
  const std::vector<int64_t> train_labels = read_label_list((in / "train_lables.json").string(), 5 * images_per_batch);
  const std::vector<int64_t> test_labels = read_label_list((in / "test_lables.json").string(), images_per_batch);
  struct Batch {
    std::string name;
    const std::vector<int64_t>* labels;
    int64_t first_label;
  };
  std::vector<Batch> batches;
  for (int k = 0; k < 5; ++k)
    batches.push_back({"data_batch_" + std::to_string(k + 1), &train_labels, k * images_per_batch});
  batches.push_back({"test_batch", &test_labels, 0});
  for (size_t b = 0; b < batches.size(); ++b) {
    const fs::path png = in / (batches[b].name + ".png");
    progress("decoding " + png.filename().string() + " (" + std::to_string(b + 1) + "/6, " +
             std::to_string(fs::exists(png) ? fs::file_size(png) : 0) + " bytes) into " + batches[b].name + ".bin");
    const std::string records =
        batch_records(png.string(), *batches[b].labels, batches[b].first_label, images_per_batch);
    io::write_file_atomic((out / (batches[b].name + ".bin")).string(), records);
  }
}

}  // namespace gantry::data
