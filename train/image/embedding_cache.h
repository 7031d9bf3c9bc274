#pragma once
// The embedding cache of data core-sets (Small-GAN, Sec. 3.2; DESIGN.md "Core-set"): every training
// image is embedded once, projected by a fixed random Gaussian matrix to d dimensions, and saved, so a
// core-set step only looks rows up. A cache file is keyed by the dataset (name, split, image shape,
// size and the digest train/data computes of its files), the embedder's identity (network, layer,
// weights) and the projection (seed, d). The key is stored in the file's metadata and checked on every
// load: a file left by another version of the dataset or the weights is stale and is rebuilt (or
// refused), never used; a damaged file is an error naming it.
#include <cstdint>
#include <cstdio>
#include <string>

#include "engine/core/tensor.h"
#include "engine/io/safetensors.h"
#include "train/data/image_dataset.h"
#include "train/image/image_embedder.h"

namespace gantry::image {

struct EmbeddingCacheKey {
  std::string dataset;           // ImageDatasetInfo::name ("cifar10", "mnist:test", a folder path)
  std::string dataset_identity;  // ImageDatasetInfo::identity
  int64_t dataset_size = 0, channels = 0, height = 0, width = 0;
  std::string embedder_name;  // the --coreset-embedding value
  std::string embedder;       // ImageEmbedder::identity()
  int64_t embedder_dim = 0;
  uint64_t projection_seed = 0;
  int64_t dim = 0;  // projected dimension; 0: no projection (the embedder's own dimension is kept)

  static EmbeddingCacheKey of(const data::ImageDatasetInfo& info, const std::string& embedder_name,
                              const ImageEmbedder& embedder, uint64_t projection_seed, int64_t dim);
  int64_t output_dim() const { return dim > 0 ? dim : embedder_dim; }
  io::Metadata metadata() const;
  // The file's name depends on what names a cache (dataset name, shape, embedder name, projection)
  // but not on the digests, so a stale file is found and replaced rather than left beside a new one.
  std::string file_name() const;
};

// The d x out_dim matrix of the random projection: entries N(0, 1/out_dim) from a Philox stream of
// `seed`, so distances are preserved in expectation (Johnson-Lindenstrauss). [in_dim, out_dim] f32.
Tensor gaussian_projection(int64_t in_dim, int64_t out_dim, uint64_t seed);

// <data cache>/embeddings, the data cache being `data_cache` or data::default_dataset_cache_dir().
std::string default_embedding_cache_dir(const std::string& data_cache = {});

struct EmbeddingCacheOptions {
  std::string folder;            // "": default_embedding_cache_dir()
  int64_t batch = 256;           // images embedded at once
  std::FILE* progress = stderr;  // progress lines while building; nullptr: silent
  bool rebuild_stale = true;     // false: a stale cache is refused (naming what changed) instead of rebuilt
};

enum class EmbeddingCacheSource { loaded, built, rebuilt_stale };

struct CachedEmbeddings {
  Tensor points;  // [dataset size, key.output_dim()] f32 on the CPU; row i is image i
  std::string path;
  EmbeddingCacheSource source = EmbeddingCacheSource::built;
  std::string stale_reason;  // for rebuilt_stale: what differed
};

// Embeds (and projects) every image of `dataset` in index order; no cache.
Tensor embed_dataset(const data::ImageDataset& dataset, ImageEmbedder& embedder, const Tensor& projection,
                     int64_t batch, std::FILE* progress);

// Loads the cache file of `key` when it holds that key, otherwise builds it from `dataset` and writes it
// atomically. Throws gantry::Error naming the file for a damaged cache, or for a stale one when
// !options.rebuild_stale.
CachedEmbeddings load_or_build_embeddings(const data::ImageDataset& dataset, ImageEmbedder& embedder,
                                          const EmbeddingCacheKey& key, const EmbeddingCacheOptions& options = {});

}  // namespace gantry::image
