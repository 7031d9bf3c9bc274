#include "train/cli/mog_grid.h"

#include <algorithm>
#include <filesystem>

#include "engine/core/error.h"
#include "train/cli/mog_commands.h"
#include "train/data/mixture_of_gaussians.h"
#include "train/mog/mog_experiment.h"
#include "train/mog/mog_run_metrics.h"
#include "train/run_folder.h"

namespace gantry::cli {

namespace {

GridRunState inspect_run(const std::string& folder, const mog::MogTrainConfig& wanted) {
  if (!std::filesystem::exists(std::filesystem::path(folder) / mog::kConfigFile)) return GridRunState::fresh;
  const train::RunFolder run(folder);
  const mog::MogTrainConfig saved = mog::MogTrainConfig::from_json(run.read_json(mog::kConfigFile));
  RecordedGridRun recorded{saved.identity_json(), saved.steps, nullptr, run.exists(mog::kCheckpointFile)};
  recorded.finished = [&] {
    if (!run.exists(mog::kMetricsFile)) return false;
    const auto metrics = mog::parse_mog_run_metrics(run.read_json(mog::kMetricsFile), run.file(mog::kMetricsFile));
    return metrics.finished && metrics.step == wanted.steps && saved.steps == wanted.steps &&
           saved.eval_samples == wanted.eval_samples;
  };
  return recorded_run_state("mog grid", folder, recorded, wanted.identity_json(), wanted.steps);
}

void validate_grid(const MogGridSpec& spec) {
  GANTRY_CHECK(!spec.modes.empty() && !spec.methods.empty(), "mog grid: --modes and --methods must not be empty");
  for (int64_t m : spec.modes)
    GANTRY_CHECK(data::perfect_square_side(m) > 0, "--modes: every entry must be a perfect square >= 1, got ", m);
  check_distinct("--modes", spec.modes);
  for (const auto& method : spec.methods) method_flags(method);
  check_distinct("--methods", spec.methods);
  check_grid_sizes(spec.seeds, spec.jobs, spec.steps);
  GANTRY_CHECK(spec.checkpoint_every >= 1, "--checkpoint-every: must be >= 1, got ", spec.checkpoint_every);
}

// The `mog train` arguments of one run.
std::vector<std::string> run_args(const MogGridSpec& spec, int64_t modes, const std::string& method, int seed,
                                  const std::string& folder, int64_t decay_every) {
  std::vector<std::string> args = {"--modes", std::to_string(modes), "--steps", std::to_string(spec.steps),
                                   "--seed",  std::to_string(seed),  "--out",   folder,
                                   "--quiet"};
  const std::vector<std::string> flags = method_flags(method);
  for (const auto& f : flags) args.push_back(f);
  // The top-k decay period applies to the methods that select top-k (or bottom-k) samples only.
  if (std::find(flags.begin(), flags.end(), "--topk") != flags.end() ||
      std::find(flags.begin(), flags.end(), "--bottomk") != flags.end() ||
      std::find(flags.begin(), flags.end(), "--soft-topk") != flags.end())
    args.insert(args.end(), {"--decay-every", std::to_string(decay_every)});
  args.insert(args.end(), {"--checkpoint-every", std::to_string(spec.checkpoint_every)});
  for (const auto& a : spec.extra_args) args.push_back(a);
  return args;
}

// The summary's metrics: the final evaluation of every finished run's metrics.json.
GridSummaryDefinition summary_definition(const MogGridSpec& spec, int64_t decay_every) {
  GridSummaryDefinition d;
  d.key_columns = {{"modes", 6}, {"method", 10}};
  for (int64_t m : spec.modes)
    for (const auto& method : spec.methods) d.rows.push_back({{"modes", m}, {"method", method}});
  const auto final_value = [](const char* key) {
    return [path = std::string("final/") + key](const nlohmann::json& m) { return metric_at_path(m, path); };
  };
  d.metrics = {{"high_quality_percent", "% high quality", 1, true, 1, final_value("high_quality_percent")},
               {"modes_recovered_percent", "% modes recovered", 1, true, 0, final_value("modes_recovered_percent")},
               {"modes_assigned_percent", "% modes assigned", 1, true, -1, final_value("modes_assigned_percent")},
               {"missed_on_outer_ring", "missed modes on the outer ring", 1, false, -1, mog::missed_on_outer_ring},
               {"within_mode_std", "within-mode std", 4, false, -1, final_value("within_mode_std")}};
  d.per_run_header = "per run (HQ / modes)";
  d.note = ", top-k decay every " + std::to_string(decay_every) + " steps";
  d.extra_fields = {{"decay_every", decay_every}};
  d.read_metrics = [](const std::string& folder) {
    const train::RunFolder run(folder);
    nlohmann::json metrics = run.read_json(mog::kMetricsFile);
    mog::parse_mog_run_metrics(metrics, run.file(mog::kMetricsFile));  // throws for a malformed one
    return metrics;
  };
  return d;
}

}  // namespace

MogGridResult run_mog_grid(const MogGridSpec& spec) {
  validate_grid(spec);
  const int64_t decay_every =
      spec.decay_every > 0 ? spec.decay_every : std::max<int64_t>(1, spec.steps * 2000 / 100000);
  GridPlan plan;
  plan.title = "mog grid";
  plan.shape = grid_shape({{spec.modes.size(), "modes"}, {spec.methods.size(), "methods"}}, spec.seeds);
  plan.settings = spec;
  plan.log_file = mog::kLogFile;
  plan.summary = summary_definition(spec, decay_every);
  // Every run's configuration, validated before anything on disk is touched.
  std::vector<mog::MogTrainConfig> configs;
  for (int64_t m : spec.modes)
    for (const auto& method : spec.methods)
      for (int s = 0; s < spec.seeds; ++s) {
        const std::string name = "m" + std::to_string(m) + "_" + method + "_seed" + std::to_string(s);
        GridRun run;
        run.folder = (std::filesystem::path(spec.out) / name).string();
        run.seed = s;
        run.row = configs.size() / static_cast<size_t>(spec.seeds);
        const std::vector<std::string> args = run_args(spec, m, method, s, run.folder, decay_every);
        configs.push_back(parse_mog_train_config(args));
        configs.back().validate();
        run.args = {"mog", "train"};
        run.args.insert(run.args.end(), args.begin(), args.end());
        plan.runs.push_back(std::move(run));
      }
  plan.inspect = [&plan, &configs](size_t i) { return inspect_run(plan.runs[i].folder, configs[i]); };
  return run_grid(plan);
}

}  // namespace gantry::cli
