// gantry fid: the Fréchet Inception Distance between two image sources (datasets, folders, runs,
// image or statistics .npz files), and gantry fid stats: a source's statistics in pytorch-fid's .npz
// layout. Every number is printed and stored with its protocol (network, weights, layer, resize,
// both sides' kinds and counts, the generator mode). On a layer other than pool3 the number is a
// Fréchet distance of other features, named FD_<layer>, never FID. --kid and --prdc add the Kernel
// Inception Distance and precision, recall, density and coverage on the same features; --is the
// Inception Score of --fake (pool3 network only: it needs the logits).
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "engine/core/device.h"
#include "engine/core/error.h"
#include "engine/core/machine_info.h"
#include "engine/io/atomic_file.h"
#include "eval/frechet_distance.h"
#include "eval/inception_features.h"
#include "eval/inception_score.h"
#include "eval/kernel_inception_distance.h"
#include "eval/precision_recall.h"
#include "train/cli/arg_parser.h"
#include "train/cli/fid_commands.h"
#include "train/image/fid_sources.h"

#ifndef GANTRY_VERSION
#define GANTRY_VERSION "unknown"
#endif

namespace gantry::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSourcesHelp =
    "A source is a dataset (cifar10:train, cifar10:test, mnist, fashion-mnist:test, ...), a folder of PNG/JPEG\n"
    "images, a run folder of `gantry image train` (its generator makes the images), an .npz of uint8 images\n"
    "arr_0 [N, H, W, C] (`gantry image sample --out x.npz`), or a statistics .npz (mu, sigma; pytorch-fid's\n"
    "layout, `gantry fid stats`).";

// The options both commands share: the network and how images go through it.
void add_network_options(ArgParser& p) {
  p.option("weights", "PATH",
           "FID Inception weights: pytorch-fid's .pth, a .safetensors, or a folder of per-layer .dat files "
           "(default: $GANTRY_FID_WEIGHTS, else ~/.cache/gantry/fid/" +
               std::string(models::kFidInceptionFileName) + ")")
      .option("layer", "L",
              "pool3 (FID, needs the full weights), mixed_7a or mixed_6e (average-pooled; a feature distance, "
              "not FID)",
              "pool3")
      .option("batch", "B", "images per forward pass", "50")
      .option("device", "D", "cpu, cuda or cuda:N", "cpu")
      .option("data-cache", "DIR", "dataset cache (default: $GANTRY_DATA_DIR or ~/.cache/gantry/datasets)")
      .option("stats-cache", "DIR",
              "where dataset statistics are cached (default: $GANTRY_FID_STATS_DIR or ~/.cache/gantry/fid-stats)")
      .flag("no-stats-cache", "compute dataset statistics afresh and do not cache them")
      .flag("quiet", "no progress lines");
}

eval::InceptionFeatureExtractor make_extractor(const ArgParser& p) {
  const eval::InceptionLayer layer = eval::parse_inception_layer(p.str("layer"));
  const int64_t batch = p.int64("batch");
  GANTRY_CHECK(batch >= 1, "--batch: must be >= 1, got ", batch);
  return eval::InceptionFeatureExtractor(
      eval::load_weights_for_layer(p.given("weights") ? p.str("weights") : "", layer), layer,
      Device::parse(p.str("device")), batch);
}

image::FidSourceOptions source_options(const ArgParser& p) {
  image::FidSourceOptions o;
  o.batch = p.int64("batch");
  if (p.given("data-cache")) o.data_cache = p.str("data-cache");
  o.stats_cache = p.flag_set("no-stats-cache") ? ""
                  : p.given("stats-cache")     ? p.str("stats-cache")
                                               : image::default_fid_stats_cache_dir();
  o.progress = !p.flag_set("quiet");
  return o;
}

void refuse_existing(const ArgParser& p, const std::string& option) {
  if (!p.given(option)) return;
  const std::string out = p.str(option);
  GANTRY_CHECK(p.flag_set("force") || !fs::exists(out), "--", option, ": '", out,
               "' exists; nothing was written (pass --force to overwrite it)");
}

std::string describe_source(const nlohmann::json& s) {
  std::string text = s.at("spec").get<std::string>() + " (" + s.at("kind").get<std::string>();
  if (!s.at("count").is_null()) text += ", " + std::to_string(s.at("count").get<int64_t>()) + " images";
  if (s.contains("generator")) text += ", " + s.at("generator").get<std::string>() + " generator";
  return text + ")";
}

int64_t non_negative(const ArgParser& p, const std::string& name) {
  const int64_t v = p.int64(name);
  GANTRY_CHECK(v >= 0, "--", name, ": must be >= 0, got ", v);
  return v;
}

std::string short_hash(const std::string& h) { return h.size() > 8 ? h.substr(0, 8) : h; }

// KID on pool3; on another layer the same kernel distance is named KD_<layer>, like FD_<layer>.
std::string kernel_distance_name(const eval::InceptionLayerInfo& layer) {
  return layer.layer == eval::InceptionLayer::pool3 ? "KID" : std::string("KD_") + layer.name;
}

nlohmann::json kernel_distance_result(const ArgParser& p, const eval::InceptionLayerInfo& layer, const Tensor& real,
                                      const Tensor& fake) {
  eval::KernelInceptionDistanceOptions o;
  o.num_subsets = p.int64("kid-subsets");
  o.max_subset_size = p.int64("kid-subset-size");
  const eval::KernelInceptionDistance k = eval::kernel_inception_distance(real, fake, o);
  const std::string name = kernel_distance_name(layer);
  std::printf("%s %.6f +- %.6f (%lld subsets of %lld images)\n", name.c_str(), k.mean, k.std,
              static_cast<long long>(o.num_subsets), static_cast<long long>(k.subset_size));
  return {{"metric", name},
          {"mean", k.mean},
          {"std", k.std},
          {"subsets", o.num_subsets},
          {"subset_size", k.subset_size},
          {"subset_seed", o.seed},
          {"estimator", "unbiased MMD^2, kernel (a.b / dim + 1)^3, std over subsets (population)"}};
}

nlohmann::json prdc_result(const ArgParser& p, const eval::InceptionLayerInfo& layer, const Tensor& real,
                           const Tensor& fake) {
  eval::PrecisionRecallOptions o;
  o.k = p.int64("prdc-k");
  const eval::PrecisionRecall r = eval::precision_recall(real, fake, o);
  std::printf("precision %.4f  recall %.4f  density %.4f  coverage %.4f (k = %lld, %s features)\n", r.precision,
              r.recall, r.density, r.coverage, static_cast<long long>(o.k), layer.name);
  return {{"precision", r.precision},
          {"recall", r.recall},
          {"density", r.density},
          {"coverage", r.coverage},
          {"k", o.k},
          {"features", layer.name},
          {"balls", "closed, radius the distance to the k-th nearest other point of the same set"}};
}

nlohmann::json inception_score_result(const ArgParser& p, const Tensor& logits) {
  eval::InceptionScoreOptions o;
  o.splits = p.int64("is-splits");
  o.shuffle = p.flag_set("is-shuffle");
  GANTRY_CHECK(logits.size(0) >= o.splits, "--is-splits: ", o.splits, " splits of ", logits.size(0),
               " images; give at least as many images as splits (the Inception Score is normally 10 splits of 50,000)");
  const eval::InceptionScore s = eval::inception_score_from_logits(logits, o);
  std::printf("IS %.4f +- %.4f (%lld splits of %lld images%s)\n", s.mean, s.std, static_cast<long long>(o.splits),
              static_cast<long long>(logits.size(0) / o.splits), o.shuffle ? ", shuffled as torch-fidelity does" : "");
  return {
      {"metric", "IS"},
      {"mean", s.mean},
      {"std", s.std},
      {"split_scores", s.split_scores},
      {"splits", o.splits},
      {"images", logits.size(0)},
      {"order", o.shuffle ? "np.random.RandomState(2020).permutation (torch-fidelity)" : "input order (the original)"},
      {"logits", "bias-free: pool3 times fc.weight^T, 1008 classes"},
      {"std_of", "split scores, population"}};
}

}  // namespace

int fid_command(const std::vector<std::string>& args) {
  ArgParser p("gantry fid",
              "Fréchet Inception Distance between --real and --fake, exactly as pytorch-fid computes it (bilinear\n"
              "resize to 299, 2x - 1, pool3 features, float64 statistics, the trace of the matrix square root).\n" +
                  std::string(kSourcesHelp) +
                  "\nDataset statistics are cached. `gantry fid stats` writes a source's statistics file.\n"
                  "With --layer mixed_7a or mixed_6e the number is a Fréchet distance of those average-pooled\n"
                  "features (FD_mixed_7a, FD_mixed_6e): useful for relative comparisons, never comparable with FID.");
  p.option("real", "SOURCE", "the reference images or statistics (e.g. cifar10:train)")
      .option("fake", "SOURCE", "the images to score (e.g. a run folder)")
      .option("real-count", "N", "images of --real used, the first N (0: all)", "0")
      .option("fake-count", "N",
              "images of --fake: generated from a run (default 50000), or the first N of a file or dataset "
              "(default: all)")
      .option("seed", "S", "seed of a run's latents", "0")
      .option("generator", "G", "a run's generator: ema (when the run kept one) or raw", "ema")
      .option("out", "FILE", "also write the result and its protocol as JSON")
      .flag("force", "overwrite an existing --out")
      .flag("kid", "also the Kernel Inception Distance (KID; KD_<layer> off pool3); both sides must be images")
      .option("kid-subsets", "N", "KID: random subsets averaged", "100")
      .option("kid-subset-size", "M", "KID: images per subset (at most the smaller side)", "1000")
      .flag("prdc", "also precision, recall, density and coverage on k-NN balls; both sides must be images")
      .option("prdc-k", "K", "precision/recall: the k of the k-nearest-neighbour balls", "5")
      .flag("is",
            "also the Inception Score of --fake (needs --layer pool3 and the full weights); --fake must be images")
      .option("is-splits", "N", "IS: the images are cut into N consecutive splits", "10")
      .flag("is-shuffle",
            "IS: shuffle first as torch-fidelity does (NumPy RandomState(2020)); default: the original's order");
  add_network_options(p);
  if (!p.parse(args)) return 0;
  GANTRY_CHECK(p.given("real"), "--real: required (a dataset, folder, run or .npz)");
  GANTRY_CHECK(p.given("fake"), "--fake: required (a dataset, folder, run or .npz)");
  const std::string which = p.str("generator");
  GANTRY_CHECK(which == "ema" || which == "raw", "--generator: expected ema or raw, got '", which, "'");
  const int64_t real_count = non_negative(p, "real-count"), seed = non_negative(p, "seed");
  const int64_t fake_count = p.given("fake-count") ? non_negative(p, "fake-count") : 0;
  const bool kid = p.flag_set("kid"), prdc = p.flag_set("prdc");
  GANTRY_CHECK(p.int64("kid-subsets") >= 1, "--kid-subsets: must be >= 1, got ", p.int64("kid-subsets"));
  GANTRY_CHECK(p.int64("kid-subset-size") >= 2, "--kid-subset-size: must be >= 2, got ", p.int64("kid-subset-size"));
  GANTRY_CHECK(p.int64("prdc-k") >= 1, "--prdc-k: must be >= 1, got ", p.int64("prdc-k"));
  const bool is = p.flag_set("is");
  GANTRY_CHECK(p.int64("is-splits") >= 1, "--is-splits: must be >= 1, got ", p.int64("is-splits"));
  GANTRY_CHECK(is || (!p.given("is-splits") && !p.flag_set("is-shuffle")), "--is-splits and --is-shuffle need --is");
  GANTRY_CHECK(
      !is || eval::parse_inception_layer(p.str("layer")) == eval::InceptionLayer::pool3,
      "--is: the Inception Score needs the network's logits, so --layer pool3 and the full weights (got --layer ",
      p.str("layer"), ")");
  refuse_existing(p, "out");

  const auto start = std::chrono::steady_clock::now();
  eval::InceptionFeatureExtractor extractor = make_extractor(p);
  image::FidSourceOptions real_options = source_options(p), fake_options = source_options(p);
  real_options.count = real_count;
  fake_options.count = fake_count;
  fake_options.seed = static_cast<uint64_t>(seed);
  fake_options.use_ema = which == "ema";
  real_options.keep_features = fake_options.keep_features = kid || prdc;
  fake_options.keep_logits = is;
  const image::FidSource real = image::fid_source_statistics(p.str("real"), extractor, real_options, "--real");
  const image::FidSource fake = image::fid_source_statistics(p.str("fake"), extractor, fake_options, "--fake");
  const eval::FrechetDistance d = eval::frechet_distance(real.stats, fake.stats);

  const eval::InceptionLayerInfo& layer = extractor.layer();
  const models::FidInceptionWeights& w = extractor.weights();
  std::printf("%s %.4f\n", layer.metric, d.value);
  if (layer.layer != eval::InceptionLayer::pool3)
    std::printf("  a Fréchet distance of %s features, NOT FID: compare it only with %s values\n", layer.name,
                layer.metric);
  nlohmann::json extra = nlohmann::json::object();
  if (kid) extra["kid"] = kernel_distance_result(p, layer, real.features, fake.features);
  if (prdc) extra["prdc"] = prdc_result(p, layer, real.features, fake.features);
  if (is) extra["is"] = inception_score_result(p, fake.logits);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("  fake: %s\n  real: %s\n", describe_source(fake.protocol).c_str(),
              describe_source(real.protocol).c_str());
  std::printf("  network: FID Inception-v3, %s (%lld-d), bilinear resize to 299, weights %s (%s%s%s, folded %s)\n",
              layer.name, static_cast<long long>(layer.dim), w.source.c_str(), w.format.c_str(),
              w.file_sha256.empty() ? "" : ", sha256 ", short_hash(w.file_sha256).c_str(), w.digest.c_str());
  if (d.used_offset) std::printf("  note: the covariance product was singular; eps = 1e-6 was added\n");
  if (w.published_file() == "no")
    std::printf("  warning: %s is not pytorch-fid's published %s (its SHA-256 does not start with %s): this number "
                "is not comparable with published values\n",
                w.source.c_str(), models::kFidInceptionFileName, models::kFidInceptionSha256Prefix);

  nlohmann::json result = {{"metric", layer.metric},
                           {"value", d.value},
                           {"is_fid", layer.layer == eval::InceptionLayer::pool3},
                           {"inception", extractor.protocol()},
                           {"real", real.protocol},
                           {"fake", fake.protocol},
                           {"statistics", "float64 mean and unbiased (N - 1) covariance; tr sqrt via eigenvalues"},
                           {"eps_fallback", d.used_offset},
                           {"seconds", seconds},
                           {"gantry_version", GANTRY_VERSION},
                           {"machine", this_machine().to_json()}};
  result.update(extra);
  if (p.given("out")) {
    io::write_file_atomic(p.str("out"), result.dump(2) + "\n");
    std::printf("  written: %s\n", p.str("out").c_str());
  }
  return 0;
}

int fid_stats_command(const std::vector<std::string>& args) {
  ArgParser p("gantry fid stats",
              "Writes the Inception-feature statistics of --real (mu, sigma: pytorch-fid's .npz layout, readable by\n"
              "pytorch-fid and `gantry fid`) to --out, with the protocol beside it in <out>.json.\n" +
                  std::string(kSourcesHelp));
  p.option("real", "SOURCE", "the images (e.g. cifar10:train)")
      .option("count", "N", "images used: the first N of a dataset or file (0: all), or generated by a run (0: 50000)",
              "0")
      .option("seed", "S", "seed of a run's latents", "0")
      .option("out", "FILE.npz", "the statistics file")
      .flag("force", "overwrite an existing --out");
  add_network_options(p);
  if (!p.parse(args)) return 0;
  GANTRY_CHECK(p.given("real"), "--real: required (a dataset, folder, run or images .npz)");
  GANTRY_CHECK(p.given("out"), "--out: required (the .npz to write)");
  const std::string out = p.str("out");
  GANTRY_CHECK(out.ends_with(".npz"), "--out: expected a .npz path, got '", out, "'");
  refuse_existing(p, "out");
  const int64_t count = non_negative(p, "count"), seed = non_negative(p, "seed");
  eval::InceptionFeatureExtractor extractor = make_extractor(p);
  image::FidSourceOptions o = source_options(p);
  o.count = count;
  o.seed = static_cast<uint64_t>(seed);
  const image::FidSource s = image::fid_source_statistics(p.str("real"), extractor, o, "--real");
  eval::save_statistics_npz(out, s.stats);
  const nlohmann::json protocol = {{"inception", extractor.protocol()},
                                   {"source", s.protocol},
                                   {"count", s.stats.count},
                                   {"gantry_version", GANTRY_VERSION}};
  io::write_file_atomic(out + ".json", protocol.dump(2) + "\n");
  std::printf("fid stats: %s, %s features (%lld-d) -> %s (protocol in %s.json)\n", describe_source(s.protocol).c_str(),
              extractor.layer().name, static_cast<long long>(extractor.dim()), out.c_str(), out.c_str());
  return 0;
}

}  // namespace gantry::cli
