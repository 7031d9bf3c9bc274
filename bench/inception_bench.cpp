// FID feature extraction on the CPU: the full FID Inception-v3 (models/fid_inception.h) with the
// random weights of tests/data/fid_inception_random_legacy.pth on CIFAR-sized images (32x32, resized
// to 299x299 inside the network), one FidInceptionV3::features call per batch. Prints one JSON object:
// per batch size, the median and minimum wall ms/batch, the median CPU ms/batch and images/s after a
// warm-up, and the process's peak RSS. bench/inception_torch.py is the same network in PyTorch;
// bench/run_inception_bench.sh runs both and writes the ratio table.
//   inception_bench [--weights PATH] [--batches 50,16] [--size 32] [--repeats N] [--warmup N]
//                   [--threads N] [--layer-times]
// --layer-times adds, per batch, the median ms spent up to each layer's output since the previous
// one (the observer's call times), which shows where a forward pass spends its time.
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "engine/core/cpu_threads.h"
#include "engine/core/machine_info.h"
#include "engine/ops/ops.h"
#include "engine/random/generator.h"
#include "models/fid_inception.h"
#include "models/fid_inception_weights.h"

namespace {

using namespace gantry;
using Clock = std::chrono::steady_clock;

struct Config {
  std::string weights = "tests/data/fid_inception_random_legacy.pth";
  std::vector<int64_t> batches = {50};
  int64_t size = 32;
  int repeats = 5;
  int warmup = 1;
  int threads = 1;
  bool layer_times = false;
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: inception_bench [--weights PATH] [--batches 50,16] [--size 32] [--repeats N] [--warmup N] "
               "[--threads N] [--layer-times]\n");
  std::exit(2);
}

Config parse_args(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--layer-times") {
      c.layer_times = true;
      continue;
    }
    if (i + 1 >= argc) usage();
    const std::string v = argv[++i];
    if (a == "--weights") {
      c.weights = v;
    } else if (a == "--batches") {
      c.batches.clear();
      std::stringstream ss(v);
      for (std::string t; std::getline(ss, t, ',');) c.batches.push_back(std::atoll(t.c_str()));
    } else if (a == "--size") {
      c.size = std::atoll(v.c_str());
    } else if (a == "--repeats") {
      c.repeats = std::atoi(v.c_str());
    } else if (a == "--warmup") {
      c.warmup = std::atoi(v.c_str());
    } else if (a == "--threads") {
      c.threads = std::atoi(v.c_str());
    } else {
      usage();
    }
  }
  if (c.repeats < 1 || c.warmup < 0 || c.threads < 1 || c.size < 1 || c.batches.empty()) usage();
  for (const int64_t b : c.batches)
    if (b < 1) usage();
  return c;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double process_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // KiB on Linux
}

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

struct BatchTimes {
  std::vector<double> wall_ms, cpu_ms;
  std::vector<std::string> layer_order;                 // forward order of the observed layers
  std::map<std::string, std::vector<double>> layer_ms;  // per layer, one entry per timed repeat
};

BatchTimes time_batch(models::FidInceptionV3& net, int64_t batch, const Config& cfg) {
  Generator gen(0);
  const Tensor images = rand({batch, 3, cfg.size, cfg.size}, gen);
  BatchTimes times;
  for (int it = 0; it < cfg.warmup + cfg.repeats; ++it) {
    const bool timed = it >= cfg.warmup;
    Clock::time_point last = Clock::now();
    models::InceptionLayerObserver observer;
    if (cfg.layer_times && timed)
      observer = [&](const std::string& name, const Tensor&) {
        const Clock::time_point now = Clock::now();
        if (it == cfg.warmup) times.layer_order.push_back(name);
        times.layer_ms[name].push_back(ms_between(last, now));
        last = now;
      };
    const double c0 = process_cpu_ms();
    const Clock::time_point t0 = Clock::now();
    last = t0;
    const models::InceptionFeatures f = net.features(images, observer);
    (void)f.pool3.data_ptr<float>();  // the features exist
    const Clock::time_point t1 = Clock::now();
    const double c1 = process_cpu_ms();
    if (!timed) continue;
    times.wall_ms.push_back(ms_between(t0, t1));
    times.cpu_ms.push_back(c1 - c0);
  }
  return times;
}

}  // namespace

int main(int argc, char** argv) {
  const Config cfg = parse_args(argc, argv);
  set_cpu_threads(cfg.threads);
  const models::FidInceptionWeights weights = models::load_fid_inception_weights(cfg.weights);
  const std::unique_ptr<models::FidInceptionV3> net =
      models::make_fid_inception(weights, models::InceptionExtent::full);
  std::printf(
      "{\"impl\": \"gantry\", \"variant\": \"folded\", \"machine\": \"%s\", \"threads\": %d, \"repeats\": %d, "
      "\"warmup\": %d, \"image_size\": %lld, \"weights_digest\": \"%s\", \"results\": [",
      this_machine().summary().c_str(), cfg.threads, cfg.repeats, cfg.warmup, static_cast<long long>(cfg.size),
      weights.digest.c_str());
  for (size_t i = 0; i < cfg.batches.size(); ++i) {
    const int64_t batch = cfg.batches[i];
    const BatchTimes t = time_batch(*net, batch, cfg);
    const double wall = median(t.wall_ms), cpu = median(t.cpu_ms);
    std::printf(
        "%s{\"batch\": %lld, \"median_ms\": %.3f, \"min_ms\": %.3f, \"median_cpu_ms\": %.3f, "
        "\"images_per_s\": %.4f, \"cpu_images_per_s\": %.4f, \"peak_rss_mib\": %.1f",
        i ? ", " : "", static_cast<long long>(batch), wall, *std::min_element(t.wall_ms.begin(), t.wall_ms.end()), cpu,
        1e3 * static_cast<double>(batch) / wall, 1e3 * static_cast<double>(batch) / cpu, peak_rss_mib());
    if (cfg.layer_times) {
      std::printf(", \"layer_ms\": {");
      for (size_t l = 0; l < t.layer_order.size(); ++l)
        std::printf("%s\"%s\": %.3f", l ? ", " : "", t.layer_order[l].c_str(), median(t.layer_ms.at(t.layer_order[l])));
      std::printf("}");
    }
    std::printf("}");
    std::fflush(stdout);
  }
  std::printf("]}\n");
  return 0;
}
