// One full GAN training step of an image GAN on the CPU, through train/gan_trainer.h's GanTrainer (the
// step every trainer runs): a critic update on a real and a history-free fake batch, then a generator
// update, non-saturating loss, Adam, each update asking autograd only for its own network's gradients.
// Prints one JSON object: per case, the median and minimum wall ms/step and the median CPU ms/step
// after a warm-up, and the process's peak RSS. bench/image_step_torch.py is the same step in PyTorch;
// bench/run_image_step_bench.sh runs both and writes the ratio table.
//   image_step_bench [--cases dcgan32] [--batches 64,128] [--steps N] [--warmup N] [--threads N]
// A new model is one more entry in kCases (a name and a function building its two networks).
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/core/cpu_threads.h"
#include "engine/core/machine_info.h"
#include "engine/ops/ops.h"
#include "engine/optim/adam.h"
#include "models/dcgan.h"
#include "models/image_gan_models.h"
#include "train/gan_trainer.h"

namespace {

using namespace gantry;

// The two networks of one benchmarked GAN and the shapes its step needs.
struct GanModels {
  std::shared_ptr<nn::Module> generator, critic;
  int64_t latent_dim = 0;
  Shape image;  // [C, H, W]
};

struct BenchCase {
  const char* name;
  const char* description;
  std::function<GanModels(Generator&)> build;
};

GanModels dcgan32(Generator& gen) {
  const models::DcganOptions o{
      .latent_dim = 100, .image_size = 32, .channels = 3, .generator_width = 64, .critic_width = 64};
  return {std::make_shared<models::DcganGenerator>(o, gen),
          std::make_shared<models::DcganCritic>(o, gen),
          o.latent_dim,
          {o.channels, o.image_size, o.image_size}};
}

// The ResNet SNGAN of the image presets (models/sngan.h), unconditional, at its paper's widths.
GanModels sngan32(Generator& gen) {
  models::ImageGanConfig config;
  config.model = "sngan";
  const models::ImageGanModels m = models::make_image_gan_models(config, gen);
  return {m.generator, m.critic, m.config.latent_dim, {3, 32, 32}};
}

const std::vector<BenchCase> kCases = {
    {"dcgan32", "DCGAN 32x32x3, ngf = ndf = 64, BatchNorm in both networks", dcgan32},
    {"sngan32", "ResNet SNGAN 32x32x3, widths 256 / 128, spectral norm in the critic", sngan32},
};

// The same real batch every step: the benchmark times the step, not the data pipeline.
class FixedDataSampler final : public train::DataSampler {
 public:
  explicit FixedDataSampler(Tensor batch) : batch_(std::move(batch)) {}
  Tensor sample(int64_t, Generator&, int64_t) override { return batch_; }
  std::string describe() const override { return "fixed"; }

 private:
  Tensor batch_;
};

struct Config {
  std::vector<std::string> cases = {"dcgan32"};
  std::vector<int64_t> batches = {64, 128};
  int steps = 10;
  int warmup = 2;
  int threads = 1;
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream ss(text);
  for (std::string t; std::getline(ss, t, ',');) parts.push_back(t);
  return parts;
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: image_step_bench [--cases dcgan32] [--batches 64,128] [--steps N] [--warmup N] "
               "[--threads N]\n");
  std::exit(2);
}

Config parse_args(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage();
    const std::string v = argv[++i];
    if (a == "--cases") {
      c.cases = split(v);
    } else if (a == "--batches") {
      c.batches.clear();
      for (const std::string& b : split(v)) c.batches.push_back(std::atoll(b.c_str()));
    } else if (a == "--steps") {
      c.steps = std::atoi(v.c_str());
    } else if (a == "--warmup") {
      c.warmup = std::atoi(v.c_str());
    } else if (a == "--threads") {
      c.threads = std::atoi(v.c_str());
    } else {
      usage();
    }
  }
  if (c.steps < 1 || c.warmup < 0 || c.threads < 1 || c.batches.empty()) usage();
  return c;
}

const BenchCase& find_case(const std::string& name) {
  for (const BenchCase& c : kCases)
    if (name == c.name) return c;
  std::fprintf(stderr, "image_step_bench: unknown case '%s'\n", name.c_str());
  std::exit(2);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

double process_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

// Per-step milliseconds: wall time, and CPU time of the process (what a busy shared machine takes
// away from the wall time but not from the CPU time).
struct StepTimes {
  std::vector<double> wall_ms, cpu_ms;
};

// Times `steps` GanTrainer steps after `warmup` untimed ones.
StepTimes time_steps(const BenchCase& bench, int64_t batch, const Config& cfg) {
  Generator init(0);
  GanModels m = bench.build(init);
  const optim::AdamOptions adam{.lr = 2e-4, .beta1 = 0.5, .beta2 = 0.999};
  optim::Adam g_opt(m.generator->parameters(), adam), d_opt(m.critic->parameters(), adam);
  Shape real_shape{batch};
  real_shape.insert(real_shape.end(), m.image.begin(), m.image.end());
  FixedDataSampler data(tanh(randn(real_shape, init)));
  train::PriorLatentSampler latents(m.latent_dim);
  train::FullBatchPolicy policy;
  Generator rng(1);
  train::GanTrainerOptions options;
  options.batch_size = batch;
  options.log_every = 0;
  train::GanTrainer trainer(*m.generator, *m.critic, g_opt, d_opt, latents, data, policy, rng, options);
  StepTimes times;
  for (int it = 0; it < cfg.warmup + cfg.steps; ++it) {
    const double c0 = process_cpu_ms();
    const auto t0 = std::chrono::steady_clock::now();
    trainer.step();
    const auto t1 = std::chrono::steady_clock::now();
    const double c1 = process_cpu_ms();
    if (it < cfg.warmup) continue;
    times.wall_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    times.cpu_ms.push_back(c1 - c0);
  }
  return times;
}

}  // namespace

int main(int argc, char** argv) {
  const Config cfg = parse_args(argc, argv);
  set_cpu_threads(cfg.threads);
  std::printf(
      "{\"impl\": \"gantry\", \"machine\": \"%s\", \"threads\": %d, \"steps\": %d, \"warmup\": %d, "
      "\"results\": [",
      this_machine().summary().c_str(), cfg.threads, cfg.steps, cfg.warmup);
  bool first = true;
  for (const std::string& name : cfg.cases) {
    const BenchCase& bench = find_case(name);
    for (const int64_t batch : cfg.batches) {
      const StepTimes t = time_steps(bench, batch, cfg);
      std::printf(
          "%s{\"case\": \"%s\", \"description\": \"%s\", \"batch\": %lld, \"median_ms\": %.3f, "
          "\"min_ms\": %.3f, \"median_cpu_ms\": %.3f, \"min_cpu_ms\": %.3f, \"peak_rss_mib\": %.1f}",
          first ? "" : ", ", bench.name, bench.description, static_cast<long long>(batch), median(t.wall_ms),
          *std::min_element(t.wall_ms.begin(), t.wall_ms.end()), median(t.cpu_ms),
          *std::min_element(t.cpu_ms.begin(), t.cpu_ms.end()), peak_rss_mib());
      std::fflush(stdout);
      first = false;
    }
  }
  std::printf("]}\n");
  return 0;
}
