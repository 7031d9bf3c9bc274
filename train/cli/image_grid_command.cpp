// gantry image grid: a grid of image trainings (models x methods x seeds) with a summary table.
#include <algorithm>

#include "train/cli/arg_parser.h"
#include "train/cli/command_line.h"
#include "train/cli/grid_options.h"
#include "train/cli/image_commands.h"
#include "train/cli/image_grid.h"

namespace gantry::cli {

int image_grid_command(const std::vector<std::string>& args) {
  // Everything after `--` is for `gantry image train` (every run).
  const auto split = std::find(args.begin(), args.end(), "--");
  const std::vector<std::string> own(args.begin(), split);
  const std::vector<std::string> passed_on(split == args.end() ? split : split + 1, args.end());
  const ImageGridSpec d;
  ArgParser p("gantry image grid",
              "Runs image trainings for every (model, method, seed), as child `gantry image train` processes,\n"
              "prints a summary (mean +- std over seeds of the last logged losses and steps/s) and writes\n"
              "<out>/summary.json and summary.md. Methods: baseline, topk, bottomk, coreset (prior + data\n"
              "core-sets), both (topk + coreset). Options after -- go to every `gantry image train`, e.g.\n"
              "-- --image-size 32 --batch 64 --ema-decay 0.999 (--nu, --gamma, --decay-every, --topk-target,\n"
              "--fz and --fx only to the runs whose method uses them). Re-run on the same --out, it keeps\n"
              "finished runs and resumes interrupted ones (first); the rest go seed by seed.");
  p.option("models", "LIST", "comma-separated model presets (dcgan, msgan, wgan-gc, wgan-gp, sngan, sagan)",
           "dcgan,sngan")
      .option("methods", "LIST", "comma-separated methods", "baseline,topk,coreset,both")
      .option("seeds", "N", "seeds per (model, method) (0..N-1)", std::to_string(d.seeds))
      .option("dataset", "D", "mnist | fashion-mnist | cifar10 (:train/:test) or an image folder", d.dataset)
      .option("jobs", "N", "runs in parallel (at most the machine's CPU cores)", default_grid_jobs())
      .option("steps", "N", "generator steps per run", std::to_string(d.steps))
      .option("out", "DIR", "grid folder (one run folder per (model, method, seed) inside)")
      .option("progress-every", "SECONDS", "a progress line (steps, rates, time left) this often; 0: none", "60")
      .flag("summary-only", "summarise the runs that already finished (summary.json, summary.md); train nothing");
  if (!p.parse(own)) return 0;
  ImageGridSpec spec;
  spec.models = p.list("models");
  spec.methods = p.list("methods");
  spec.seeds = static_cast<int>(p.int64("seeds"));
  spec.dataset = p.str("dataset");
  spec.jobs = static_cast<int>(p.int64("jobs"));
  spec.steps = p.int64("steps");
  spec.out = p.str("out");
  spec.extra_args = passed_on;
  spec.summary_only = p.flag_set("summary-only");
  spec.progress_every_seconds = progress_seconds(p);
  spec.repeat_command = repeat_command_line({"image", "grid"}, args);
  return run_image_grid(spec).exit_status();
}

}  // namespace gantry::cli
