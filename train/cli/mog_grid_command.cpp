// gantry mog grid and gantry mog compare: grids of mog trainings with a summary table.
#include <unistd.h>

#include <cstdio>

#include "engine/core/error.h"
#include "train/cli/arg_parser.h"
#include "train/cli/command_line.h"
#include "train/cli/grid_options.h"
#include "train/cli/mog_commands.h"
#include "train/cli/mog_grid.h"

namespace gantry::cli {

std::string self_executable_path() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  GANTRY_CHECK(n > 0, "cannot find the gantry executable (/proc/self/exe)");
  return std::string(buf, static_cast<size_t>(n));
}

int mog_grid_command(const std::vector<std::string>& args) {
  ArgParser p("gantry mog grid",
              "Runs mog trainings for every (modes, method, seed), as child `gantry mog train` processes,\n"
              "prints a Table-1-style summary (mean +- std over seeds) and writes <out>/summary.json.\n"
              "Methods: baseline, topk, bottomk, coreset (prior + data core-sets), both (topk + coreset).\n"
              "Re-run on the same --out, it keeps finished runs and resumes interrupted ones (first); the rest\n"
              "go seed by seed, so a grid stopped part-way has covered every cell before repeating one.");
  p.option("modes", "LIST", "comma-separated mode counts", "25,64,100")
      .option("methods", "LIST", "comma-separated methods", "baseline,topk,coreset,both")
      .option("seeds", "N", "seeds per cell (0..N-1)", "3")
      .option("jobs", "N", "runs in parallel (at most the machine's CPU cores)", default_grid_jobs())
      .option("steps", "N", "generator steps per run", "100000")
      .option("decay-every", "N", "top-k decay period (default: steps * 2000 / 100000, the paper's ratio)")
      .option("batch", "B", "batch size of every run")
      .option("lr", "LR", "Adam learning rate of every run")
      .option("eval-samples", "N", "samples per evaluation")
      .option("device", "D", "device of every run: cpu, cuda or cuda:N")
      .option("beta1", "B1", "Adam beta1 of every run")
      .option("beta2", "B2", "Adam beta2 of every run")
      .option("prior", "P", "latent prior of every run: normal or uniform")
      .option("latent-dim", "D", "latent size of every run")
      .option("hidden-layers", "N", "hidden layers of both MLPs of every run")
      .option("grid-spacing", "S", "distance between neighbouring modes of every run")
      .option("checkpoint-every", "N", "every run checkpoints every N steps (bounds the work a kill -9 loses)",
              std::to_string(kGridCheckpointEvery))
      .option("out", "DIR", "grid folder (one run folder per cell inside)")
      .option("progress-every", "SECONDS", "a progress line (steps, rates, time left) this often; 0: none", "60")
      .flag("summary-only", "summarise the runs that already finished (summary.json, summary.md); train nothing");
  if (!p.parse(args)) return 0;
  MogGridSpec spec;
  spec.modes = p.int64_list("modes");
  spec.methods = p.list("methods");
  spec.seeds = static_cast<int>(p.int64("seeds"));
  spec.jobs = static_cast<int>(p.int64("jobs"));
  spec.steps = p.int64("steps");
  spec.decay_every = p.given("decay-every") ? p.int64("decay-every") : 0;
  spec.checkpoint_every = p.int64("checkpoint-every");
  spec.out = p.str("out");
  spec.extra_args = forwarded_options(p, {"batch", "lr", "eval-samples", "device", "beta1", "beta2", "prior",
                                          "latent-dim", "hidden-layers", "grid-spacing"});
  spec.summary_only = p.flag_set("summary-only");
  spec.progress_every_seconds = progress_seconds(p);
  spec.repeat_command = repeat_command_line({"mog", "grid"}, args);
  return run_mog_grid(spec).exit_status();
}

int mog_compare_command(const std::vector<std::string>& args) {
  ArgParser p("gantry mog compare",
              "Baseline vs top-k vs core-set GAN training on a mixture of 25 Gaussians, sized to finish in\n"
              "a few minutes on 2 cores (the paper trains 100k steps; here the top-k decay period is scaled\n"
              "with the step budget so k still reaches nu = 0.75 B). Prints the table and where the pictures are.");
  p.option("steps", "N", "generator steps per run", "8000")
      .option("lr", "LR", "Adam learning rate (larger than the paper's 1e-4 to fit the short budget)", "5e-4")
      .option("batch", "B", "batch size", "256")
      .option("seeds", "N", "seeds per method", "1")
      .option("jobs", "N", "runs in parallel (at most the machine's CPU cores)", default_grid_jobs())
      .option("out", "DIR", "output folder", "mog-compare")
      .option("progress-every", "SECONDS", "a progress line (steps, rates, time left) this often; 0: none", "20");
  if (!p.parse(args)) return 0;
  MogGridSpec spec;
  spec.modes = {25};
  spec.methods = {"baseline", "topk", "coreset"};
  spec.seeds = static_cast<int>(p.int64("seeds"));
  spec.jobs = static_cast<int>(p.int64("jobs"));
  spec.steps = p.int64("steps");
  spec.out = p.str("out");
  spec.extra_args = {"--lr", p.str("lr"), "--batch", p.str("batch")};
  spec.progress_every_seconds = progress_seconds(p);
  spec.repeat_command = repeat_command_line({"mog", "compare"}, args);
  const MogGridResult result = run_mog_grid(spec);
  if (result.stop_signal != 0) return result.exit_status();
  std::printf("\npictures (10,000 samples over the mode centres):\n");
  for (const auto& method : spec.methods)
    for (int s = 0; s < spec.seeds; ++s)
      std::printf("  %-9s %s/m25_%s_seed%d/samples.png\n", method.c_str(), spec.out.c_str(), method.c_str(), s);
  return result.exit_status();
}

}  // namespace gantry::cli
