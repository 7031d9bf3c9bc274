#pragma once
// A grid of image-GAN runs (models x methods x seeds), each a `gantry image train` child process,
// run through run_grid (train/cli/run_grid.h), and its summary: mean +- std over seeds of the metrics
// in kImageGridMetrics, read from each finished run's metrics.json.
#include <cstdint>
#include <string>
#include <vector>

#include "train/cli/run_grid.h"

namespace gantry::cli {

// A summarised metric of an image run: its '/'-separated path in metrics.json (also its name in
// summary.json rows) and its column. A new metric of the run (a sample-quality score) is summarised
// by adding its entry here.
struct ImageGridMetric {
  const char* path;
  const char* header;
  int decimals;
};
inline constexpr ImageGridMetric kImageGridMetrics[] = {
    {"last_logged/d_loss", "d loss (last log)", 4},
    {"last_logged/g_loss", "g loss (last log)", 4},
    {"steps_per_second", "steps/s", 2},
    // With --eval-every (only then shown): the metric (FID or FD_<layer>, named in each run's metrics.json) at the end
    // and at its best.
    {"evaluation/last/value", "eval (last)", 3},
    {"evaluation/best/value", "eval (best)", 3},
};

struct ImageGridSpec : GridSettings {
  ImageGridSpec() { steps = 10000; }
  std::vector<std::string> models = {"dcgan", "sngan"};
  std::vector<std::string> methods = {"baseline", "topk", "coreset", "both"};
  std::string dataset = "mnist";
  // `gantry image train` options for every run. The options of a method's feature (--nu, --gamma,
  // --decay-every, --topk-target; --fz; --fx) go only to the runs whose method uses it.
  std::vector<std::string> extra_args;
};

// Validates everything (every run's configuration included), then runs the grid through run_grid.
GridResult run_image_grid(const ImageGridSpec& spec);

}  // namespace gantry::cli
