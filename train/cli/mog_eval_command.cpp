// gantry mog eval: re-evaluates a trained mixture-of-Gaussians run from its checkpoint, on one or
// several independent sample sets, so a run's numbers can be re-read at another sample count and the
// evaluation's own sampling noise measured next to the spread over training seeds.

#include <cstdio>
#include <optional>

#include "engine/core/cpu_threads.h"
#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "eval/plot/mog_scatter_plot.h"
#include "models/mog_mlp.h"
#include "train/cli/arg_parser.h"
#include "train/cli/mog_commands.h"
#include "train/cli/summary_stats.h"
#include "train/mog/mog_evaluation.h"
#include "train/mog/mog_run_loading.h"

namespace gantry::cli {

namespace {

ArgParser make_parser() {
  ArgParser p("gantry mog eval",
              "Re-evaluates a `gantry mog train` run from its checkpoint: % high-quality samples, % modes recovered\n"
              "(the top-k paper's count: modes with a high-quality sample), % modes with any assigned sample\n"
              "(Small-GAN's count) and the within-mode std on fresh samples. --repeats draws several independent "
              "sample sets and\n"
              "prints mean +- std over them: the evaluation's own sampling noise. With the default --eval-seed the\n"
              "first set is the one the run's final evaluation drew, so a finished run reproduces its metrics.json.");
  p.option("run", "DIR", "run folder (config.json + checkpoint.safetensors) or a checkpoint file")
      .option("samples", "N", "samples per set (default: the run's --eval-samples)")
      .option("repeats", "R", "independent sample sets, eval seeds S, S+1, ..., S+R-1", "1")
      .option("eval-seed", "S", "eval seed of the first set (default: the run's training seed)")
      .option("json", "FILE", "also write the metrics of every set and their mean +- std as JSON (atomically)")
      .option("png", "FILE", "also write a scatter of the first set over the modes")
      .option("threads", "N", "CPU threads (the GEMMs and the engine's own kernels)", "1")
      .option("device", "D", "cpu, cuda or cuda:N", "cpu");
  return p;
}

// An output path, checked to be writable before the evaluation runs so a typo fails fast.
std::optional<std::string> output_path(const ArgParser& p, const std::string& name) {
  if (!p.given(name)) return std::nullopt;
  const std::string path = p.str(name);
  io::check_writable_file(path, "--" + name);
  return path;
}

nlohmann::json stats_of(const std::vector<eval::MogMetrics>& sets, double eval::MogMetrics::*field) {
  std::vector<double> values;
  for (const auto& m : sets) values.push_back(m.*field);
  return stats_json(mean_std(values), values);
}

}  // namespace

int mog_eval_command(const std::vector<std::string>& args) {
  ArgParser p = make_parser();
  if (!p.parse(args)) return 0;
  const std::string run_path = p.str("run");
  const int64_t repeats = p.int64("repeats");
  GANTRY_CHECK(repeats >= 1, "--repeats: must be >= 1, got ", repeats);
  const int threads = static_cast<int>(p.int64("threads"));
  GANTRY_CHECK(threads >= 1, "--threads: must be >= 1, got ", threads);
  const std::optional<std::string> json_path = output_path(p, "json");
  const std::optional<std::string> png_path = output_path(p, "png");
  const Device device = mog::parse_available_device(p.str("device"));
  set_cpu_threads(threads);

  const mog::LoadedMogRun run = mog::load_mog_run(run_path, "--run");
  for (const auto& note : run.notes) std::printf("note: %s\n", note.c_str());
  const int64_t samples = p.given("samples") ? p.int64("samples") : run.config.eval_samples;
  GANTRY_CHECK(samples >= 1, "--samples: must be >= 1, got ", samples);
  int64_t first_seed = static_cast<int64_t>(run.config.seed);
  if (p.given("eval-seed")) first_seed = p.int64("eval-seed");
  GANTRY_CHECK(first_seed >= 0, "--eval-seed: must be >= 0, got ", first_seed);
  run.generator->to(device);

  const data::MixtureOfGaussians mixture = run.config.mixture();
  const int64_t latent_dim = run.config.latent_dim;
  std::printf("mog eval: %s (%s, %lld modes, step %lld of %lld), %lld samples x %lld set(s) from eval seed %lld\n\n",
              run.checkpoint_path.c_str(), run.config.method_name().c_str(), static_cast<long long>(run.config.modes),
              static_cast<long long>(run.step), static_cast<long long>(run.config.steps),
              static_cast<long long>(samples), static_cast<long long>(repeats), static_cast<long long>(first_seed));
  std::printf("%9s  %14s  %17s  %17s  %15s\n", "eval seed", "% high quality", "% modes recovered", "% modes assigned",
              "within-mode std");
  std::vector<eval::MogMetrics> sets;
  nlohmann::json sets_json = nlohmann::json::array();
  for (int64_t r = 0; r < repeats; ++r) {
    const uint64_t seed = static_cast<uint64_t>(first_seed + r);
    const mog::MogEvaluation e =
        mog::evaluate_generator(*run.generator, mixture, samples, latent_dim, run.config.latent_prior(), seed, device);
    const eval::MogMetrics& m = e.metrics;
    std::printf("%9llu  %14.2f  %9.2f (%lld/%lld)  %9.2f (%lld/%lld)  %15.4f\n", static_cast<unsigned long long>(seed),
                m.high_quality_percent, m.modes_recovered_percent, static_cast<long long>(m.modes_recovered),
                static_cast<long long>(m.num_modes), m.modes_assigned_percent, static_cast<long long>(m.modes_assigned),
                static_cast<long long>(m.num_modes), m.within_mode_std);
    if (r == 0 && png_path) plot::write_mog_scatter_png(*png_path, e.samples, mixture);
    nlohmann::json j = m.to_json();
    j["eval_seed"] = seed;
    sets_json.push_back(j);
    sets.push_back(m);
  }
  const nlohmann::json hq = stats_of(sets, &eval::MogMetrics::high_quality_percent);
  const nlohmann::json recovered = stats_of(sets, &eval::MogMetrics::modes_recovered_percent);
  const nlohmann::json assigned = stats_of(sets, &eval::MogMetrics::modes_assigned_percent);
  const nlohmann::json spread = stats_of(sets, &eval::MogMetrics::within_mode_std);
  if (repeats > 1) {
    const auto pm = [&](const nlohmann::json& s, int decimals) {
      return mean_pm_std(s.at("mean").get<double>(), s.at("std").get<double>(), sets.size(), decimals);
    };
    std::printf("%9s  %14s  %17s  %17s  %15s\n", "mean+-std", pm(hq, 2).c_str(), pm(recovered, 2).c_str(),
                pm(assigned, 2).c_str(), pm(spread, 4).c_str());
  }
  if (json_path) {
    const nlohmann::json out{{"run", run_path},
                             {"checkpoint", run.checkpoint_path},
                             {"step", run.step},
                             {"finished", run.step == run.config.steps},
                             {"method", run.config.method_name()},
                             {"run_id", run.config.identity_hash()},
                             {"modes", run.config.modes},
                             {"seed", run.config.seed},
                             {"samples", samples},
                             {"sets", sets_json},
                             {"high_quality_percent", hq},
                             {"modes_recovered_percent", recovered},
                             {"modes_assigned_percent", assigned},
                             {"within_mode_std", spread}};
    io::write_file_atomic(*json_path, out.dump(2) + "\n");
  }
  if (json_path || png_path)
    std::printf("\nwrote%s%s%s%s\n", json_path ? " " : "", json_path ? json_path->c_str() : "", png_path ? " " : "",
                png_path ? png_path->c_str() : "");
  return 0;
}

}  // namespace gantry::cli
