#include "train/image/embedding_cache.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <vector>

#include "engine/core/error.h"
#include "engine/io/digest.h"
#include "engine/ops/ops.h"
#include "engine/random/generator.h"
#include "train/data/image_batch_loader.h"

namespace gantry::image {

namespace {

namespace fs = std::filesystem;

constexpr const char* kFormat = "gantry embedding cache 1";
constexpr const char* kTensor = "embeddings";

// A readable, file-name-safe form of a dataset name; folder paths keep their last component.
std::string slug(const std::string& name) {
  std::string base = name.find('/') != std::string::npos ? fs::path(name).filename().string() : name;
  if (base.empty()) base = "folder";
  for (char& ch : base)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-') ch = '_';
  return base.substr(0, 40);
}

std::string shape_text(int64_t c, int64_t h, int64_t w) {
  return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
}

[[noreturn]] void fail_damaged(const std::string& path, const std::string& problem) {
  GANTRY_FAIL("embedding cache '", path, "' is damaged: ", problem, " (delete the file and it is rebuilt)");
}

}  // namespace

EmbeddingCacheKey EmbeddingCacheKey::of(const data::ImageDatasetInfo& info, const std::string& embedder_name,
                                        const ImageEmbedder& embedder, uint64_t projection_seed, int64_t dim) {
  GANTRY_CHECK(dim >= 0, "embedding cache: the projected dimension must be >= 0 (0: no projection), got ", dim);
  EmbeddingCacheKey k;
  k.dataset = info.name;
  k.dataset_identity = info.identity;
  k.dataset_size = info.size;
  k.channels = info.channels;
  k.height = info.height;
  k.width = info.width;
  k.embedder_name = embedder_name;
  k.embedder = embedder.identity();
  k.embedder_dim = embedder.dim();
  k.dim = dim;
  k.projection_seed = dim > 0 ? projection_seed : 0;  // without a projection the seed changes nothing
  return k;
}

io::Metadata EmbeddingCacheKey::metadata() const {
  return {{"format", kFormat},
          {"dataset", dataset},
          {"dataset_identity", dataset_identity},
          {"dataset_size", std::to_string(dataset_size)},
          {"image_shape", shape_text(channels, height, width)},
          {"embedder_name", embedder_name},
          {"embedder", embedder},
          {"embedder_dim", std::to_string(embedder_dim)},
          {"projection", dim > 0 ? "gaussian N(0, 1/d), Philox seed " + std::to_string(projection_seed) : "none"},
          {"dim", std::to_string(output_dim())}};
}

std::string EmbeddingCacheKey::file_name() const {
  const std::string projection =
      dim > 0 ? "d" + std::to_string(dim) + "_seed" + std::to_string(projection_seed) : "unprojected";
  return slug(dataset) + "_" + io::fnv1a64_hex(dataset).substr(0, 8) + "_" + shape_text(channels, height, width) + "_" +
         embedder_name + "_" + projection + ".safetensors";
}

Tensor gaussian_projection(int64_t in_dim, int64_t out_dim, uint64_t seed) {
  GANTRY_CHECK(in_dim >= 1 && out_dim >= 1, "gaussian_projection: dimensions must be >= 1, got ", in_dim, " -> ",
               out_dim);
  Generator gen(seed);
  return randn({in_dim, out_dim}, gen, DType::f32) * (1.0 / std::sqrt(static_cast<double>(out_dim)));
}

std::string default_embedding_cache_dir(const std::string& data_cache) {
  return (fs::path(data_cache.empty() ? data::default_dataset_cache_dir() : data_cache) / "embeddings").string();
}

Tensor embed_dataset(const data::ImageDataset& dataset, ImageEmbedder& embedder, const Tensor& projection,
                     int64_t batch, std::FILE* progress) {
  const data::ImageDatasetInfo& info = dataset.info();
  GANTRY_CHECK(batch >= 1, "embed_dataset: batch must be >= 1, got ", batch);
  GANTRY_CHECK(!projection.defined() || (projection.dim() == 2 && projection.size(0) == embedder.dim()),
               "embed_dataset: the projection must be [", embedder.dim(), ", d], got ",
               projection.defined() ? shape_str(projection.shape()) : std::string());
  const int64_t n = info.size;
  const int64_t out_dim = projection.defined() ? projection.size(1) : embedder.dim();
  Tensor out = empty({n, out_dim}, DType::f32, kCPU);
  float* rows = out.data_ptr<float>();
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto last_report = start;
  for (int64_t begin = 0; begin < n; begin += batch) {
    const int64_t count = std::min(batch, n - begin);
    std::vector<int64_t> indices(static_cast<size_t>(count));
    std::iota(indices.begin(), indices.end(), begin);
    // The loader's images are in [-1, 1]; embedders take [0, 1].
    const Tensor images = (data::gather_examples(dataset, indices).images + 1.0) * 0.5;
    Tensor features = embedder.embed(images);
    GANTRY_CHECK(features.dim() == 2 && features.size(0) == count && features.size(1) == embedder.dim(), "embedder '",
                 embedder.identity(), "' returned ", shape_str(features.shape()), " for ", count, " images, expected [",
                 count, ", ", embedder.dim(), "]");
    if (projection.defined()) features = matmul(features, projection);
    features = features.to(kCPU).to(DType::f32).contiguous();
    std::memcpy(rows + begin * out_dim, features.data_ptr<float>(),
                static_cast<size_t>(count * out_dim) * sizeof(float));
    const auto now = Clock::now();
    if (progress && (now - last_report > std::chrono::seconds(2) || begin + count == n)) {
      const double seconds = std::chrono::duration<double>(now - start).count();
      std::fprintf(progress, "embedding cache: %lld/%lld images of %s embedded (%.1f s)\n",
                   static_cast<long long>(begin + count), static_cast<long long>(n), info.name.c_str(), seconds);
      std::fflush(progress);
      last_report = now;
    }
  }
  return out;
}

namespace {

// The rows of a cache file that holds `key`; empty with `stale` set when the file holds another key.
// Throws for a file that is not a readable cache of the expected shape.
Tensor read_cache(const std::string& path, const EmbeddingCacheKey& key, std::string& stale) {
  io::TensorFile file;
  try {
    file = io::load_safetensors(path);
  } catch (const Error& e) {
    fail_damaged(path, e.what());
  }
  const auto format = file.metadata.find("format");
  if (format == file.metadata.end() || format->second != kFormat)
    fail_damaged(path, "no '" + std::string(kFormat) + "' format entry in its metadata");
  for (const auto& [name, expected] : key.metadata()) {
    const auto stored = file.metadata.find(name);
    if (stored == file.metadata.end()) fail_damaged(path, "its metadata has no '" + name + "'");
    if (stored->second != expected) {
      stale = name + " is '" + stored->second + "' in the file but '" + expected + "' now";
      return {};
    }
  }
  if (!file.contains(kTensor)) fail_damaged(path, "it holds no '" + std::string(kTensor) + "' tensor");
  const Tensor& points = file.at(kTensor);
  if (points.dtype() != DType::f32 || points.dim() != 2 || points.size(0) != key.dataset_size ||
      points.size(1) != key.output_dim())
    fail_damaged(path, "'" + std::string(kTensor) + "' is " + dtype_name(points.dtype()) + " " +
                           shape_str(points.shape()) + ", expected float32 [" + std::to_string(key.dataset_size) +
                           ", " + std::to_string(key.output_dim()) + "]");
  const float* p = points.data_ptr<float>();
  for (int64_t i = 0; i < points.numel(); ++i)
    if (!std::isfinite(p[i]))
      fail_damaged(path, "row " + std::to_string(i / key.output_dim()) + " holds a non-finite value");
  return points;
}

}  // namespace

CachedEmbeddings load_or_build_embeddings(const data::ImageDataset& dataset, ImageEmbedder& embedder,
                                          const EmbeddingCacheKey& key, const EmbeddingCacheOptions& options) {
  const data::ImageDatasetInfo& info = dataset.info();
  GANTRY_CHECK(key.dataset == info.name && key.dataset_identity == info.identity && key.dataset_size == info.size,
               "embedding cache: the key names dataset '", key.dataset, "', not the dataset given ('", info.name, "')");
  GANTRY_CHECK(key.embedder == embedder.identity(), "embedding cache: the key names embedder '", key.embedder,
               "', not the one given ('", embedder.identity(), "')");
  const fs::path folder = options.folder.empty() ? default_embedding_cache_dir() : options.folder;
  CachedEmbeddings result;
  result.path = (folder / key.file_name()).string();
  if (fs::exists(result.path)) {
    result.points = read_cache(result.path, key, result.stale_reason);
    if (result.points.defined()) {
      result.source = EmbeddingCacheSource::loaded;
      return result;
    }
    GANTRY_CHECK(options.rebuild_stale, "embedding cache '", result.path, "' is stale: ", result.stale_reason,
                 " (delete it, or let it be rebuilt)");
    if (options.progress)
      std::fprintf(options.progress, "embedding cache '%s' is stale (%s); rebuilding it\n", result.path.c_str(),
                   result.stale_reason.c_str());
    result.source = EmbeddingCacheSource::rebuilt_stale;
  } else {
    result.source = EmbeddingCacheSource::built;
  }
  std::error_code ec;
  fs::create_directories(folder, ec);
  GANTRY_CHECK(!ec, "embedding cache: cannot create the folder '", folder.string(), "' (", ec.message(), ")");
  if (options.progress)
    std::fprintf(options.progress, "embedding cache: embedding the %lld images of %s (%s%s) into %s\n",
                 static_cast<long long>(info.size), info.name.c_str(), key.embedder_name.c_str(),
                 key.dim > 0 ? (", projected to " + std::to_string(key.dim) + " dims").c_str() : ", unprojected",
                 result.path.c_str());
  const Tensor projection = key.dim > 0 ? gaussian_projection(embedder.dim(), key.dim, key.projection_seed) : Tensor();
  result.points = embed_dataset(dataset, embedder, projection, options.batch, options.progress);
  const float* p = result.points.data_ptr<float>();
  for (int64_t i = 0; i < result.points.numel(); ++i)
    GANTRY_CHECK(std::isfinite(p[i]), "embedding cache: embedder '", key.embedder, "' gave a non-finite feature for ",
                 info.name, " image ", i / key.output_dim(), "; nothing was written");
  io::save_safetensors(result.path, {{kTensor, result.points}}, key.metadata());
  return result;
}

}  // namespace gantry::image
