// Forward + backward time of the mixture-of-Gaussians critic MLP (2 -> 256 -> 256 -> 256 -> 1, ReLU,
// batch 256, f32, CPU) on 1 and 2 OpenBLAS threads; prints one JSON object. bench/mlp_bench.py is
// the same measurement in PyTorch; bench/run_mlp_bench.sh runs both and reports the ratio.
//   mlp_bench [--iters N] [--warmup N] [--threads 1,2]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "engine/core/cpu_threads.h"
#include "engine/nn/activations.h"
#include "engine/nn/linear.h"
#include "engine/nn/sequential.h"
#include "engine/ops/ops.h"

namespace {

using namespace gantry;

struct Config {
  int iters = 200;
  int warmup = 20;
  std::vector<int> threads = {1, 2};
};

Config parse_args(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--iters" && has_value) {
      c.iters = std::atoi(argv[++i]);
    } else if (a == "--warmup" && has_value) {
      c.warmup = std::atoi(argv[++i]);
    } else if (a == "--threads" && has_value) {
      c.threads.clear();
      std::stringstream ss(argv[++i]);
      for (std::string t; std::getline(ss, t, ',');) c.threads.push_back(std::atoi(t.c_str()));
    } else {
      std::fprintf(stderr, "usage: mlp_bench [--iters N] [--warmup N] [--threads 1,2]\n");
      std::exit(2);
    }
  }
  return c;
}

nn::Sequential make_critic(Generator& gen) {
  nn::Sequential net;
  net.push_back(std::make_shared<nn::Linear>(2, 256, true, gen)).push_back(std::make_shared<nn::ReLU>());
  net.push_back(std::make_shared<nn::Linear>(256, 256, true, gen)).push_back(std::make_shared<nn::ReLU>());
  net.push_back(std::make_shared<nn::Linear>(256, 256, true, gen)).push_back(std::make_shared<nn::ReLU>());
  net.push_back(std::make_shared<nn::Linear>(256, 1, true, gen));
  return net;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  const Config cfg = parse_args(argc, argv);
  Generator gen(0);
  nn::Sequential net = make_critic(gen);
  const Tensor x = randn({256, 2}, gen);
  std::printf("{\"impl\": \"gantry\", \"model\": \"mlp 2-256-256-256-1 relu\", \"batch\": 256, \"iters\": %d, "
              "\"results\": [",
              cfg.iters);
  for (size_t k = 0; k < cfg.threads.size(); ++k) {
    set_cpu_threads(cfg.threads[k]);
    std::vector<double> ms;
    for (int it = 0; it < cfg.warmup + cfg.iters; ++it) {
      const auto t0 = std::chrono::steady_clock::now();
      net.zero_grad();
      mean(net(x)).backward();
      const auto t1 = std::chrono::steady_clock::now();
      if (it >= cfg.warmup) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::printf("%s{\"threads\": %d, \"median_ms\": %.4f, \"min_ms\": %.4f}", k ? ", " : "", cfg.threads[k],
                median(ms), *std::min_element(ms.begin(), ms.end()));
  }
  std::printf("]}\n");
  return 0;
}
