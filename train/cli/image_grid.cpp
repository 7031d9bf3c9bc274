#include "train/cli/image_grid.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <string_view>

#include "engine/core/error.h"
#include "engine/io/json_integer.h"
#include "models/image_gan_models.h"
#include "train/cli/image_commands.h"
#include "train/image/image_config.h"
#include "train/run_folder.h"

namespace gantry::cli {

namespace {

// The options that the grid sets for each run itself.
const std::set<std::string> kSetByTheGrid = {"model",     "dataset",       "steps",       "seed", "out",
                                             "quiet",     "resume",        "restart",     "topk", "bottomk",
                                             "soft-topk", "coreset-prior", "coreset-data"};

// An option of the extra arguments with its value, if any: {"--nu", "0.5"}, {"--nu=0.5"}, {"--flip"}.
std::vector<std::vector<std::string>> option_groups(const std::vector<std::string>& args) {
  std::vector<std::vector<std::string>> groups;
  for (const auto& a : args) {
    if (a.rfind("--", 0) == 0 || groups.empty()) groups.push_back({a});
    else groups.back().push_back(a);  // a value (values never start with "--")
  }
  return groups;
}

std::string option_name(const std::string& word) {
  if (word.rfind("--", 0) != 0) return "";
  return word.substr(2, word.find('=') == std::string::npos ? std::string::npos : word.find('=') - 2);
}

// The flag that an option's feature needs, or "" when every run takes the option.
std::string feature_of(const std::string& option) {
  if (option == "nu" || option == "gamma" || option == "decay-every" || option == "topk-target") return "selection";
  if (option == "fz") return "--coreset-prior";
  if (option == "fx") return "--coreset-data";
  return "";
}

// Whether a run with these method flags takes the option.
bool takes_option(const std::vector<std::string>& flags, const std::string& option) {
  const auto has = [&](const char* flag) { return std::find(flags.begin(), flags.end(), flag) != flags.end(); };
  const std::string feature = feature_of(option);
  if (feature.empty()) return true;
  return feature == "selection" ? has("--topk") || has("--bottomk") || has("--soft-topk") : has(feature.c_str());
}

// The extra arguments that a run with these method flags takes.
std::vector<std::string> extra_args_for(const std::vector<std::string>& extra, const std::vector<std::string>& flags) {
  std::vector<std::string> out;
  for (const auto& group : option_groups(extra))
    if (takes_option(flags, option_name(group.front()))) out.insert(out.end(), group.begin(), group.end());
  return out;
}

nlohmann::json read_metrics(const train::RunFolder& run) {
  nlohmann::json metrics = run.read_json(image::kImageMetricsFile);
  GANTRY_CHECK(metrics.is_object(), "image grid: '", run.file(image::kImageMetricsFile),
               "' is not a JSON object (not a run's metrics.json)");
  return metrics;
}

void validate_grid(const ImageGridSpec& spec) {
  GANTRY_CHECK(!spec.models.empty() && !spec.methods.empty(), "image grid: --models and --methods must not be empty");
  const auto& names = models::image_gan_model_names();
  for (const auto& m : spec.models)
    if (std::find(names.begin(), names.end(), m) == names.end()) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      GANTRY_FAIL("--models: unknown model '", m, "' (expected one of ", list, ")");
    }
  check_distinct("--models", spec.models);
  for (const auto& method : spec.methods) method_flags(method);
  check_distinct("--methods", spec.methods);
  check_grid_sizes(spec.seeds, spec.jobs, spec.steps);
  for (const auto& group : option_groups(spec.extra_args)) {
    const std::string name = option_name(group.front());
    GANTRY_CHECK(!name.empty(), "image grid: '", group.front(), "' after -- is not an option of gantry image train");
    GANTRY_CHECK(!kSetByTheGrid.count(name), "image grid: --", name,
                 " after -- is set by the grid for each run; use the grid's own options (--models, --methods, "
                 "--seeds, --steps, --dataset, --out) instead");
    // An option that no run would take would be dropped without effect; it is refused instead.
    const bool taken = std::any_of(spec.methods.begin(), spec.methods.end(),
                                   [&](const std::string& method) { return takes_option(method_flags(method), name); });
    GANTRY_CHECK(taken, "image grid: --", name,
                 " after -- applies to none of the grid's methods; drop it or add a "
                 "method that uses it to --methods");
  }
}

GridRunState inspect_run(const std::string& folder, const image::ImageTrainConfig& wanted) {
  if (!std::filesystem::exists(std::filesystem::path(folder) / image::kImageConfigFile)) return GridRunState::fresh;
  const train::RunFolder run(folder);
  const auto saved = image::ImageTrainConfig::from_json(run.read_json(image::kImageConfigFile));
  RecordedGridRun recorded{saved.identity_json(), saved.steps, nullptr, run.exists(image::kImageCheckpointFile)};
  recorded.finished = [&] {
    if (!run.exists(image::kImageMetricsFile)) return false;
    const nlohmann::json metrics = read_metrics(run);
    const bool finished = metrics.contains("finished") && metrics["finished"] == true;
    const auto step = metrics.contains("step") ? io::json_integer<int64_t>(metrics["step"]) : std::nullopt;
    return finished && step == wanted.steps && saved.steps == wanted.steps;
  };
  return recorded_run_state("image grid", folder, recorded, wanted.identity_json(), wanted.steps);
}

GridSummaryDefinition summary_definition(const ImageGridSpec& spec) {
  GridSummaryDefinition d;
  d.key_columns = {{"model", 8}, {"method", 10}};
  for (const auto& model : spec.models)
    for (const auto& method : spec.methods) d.rows.push_back({{"model", model}, {"method", method}});
  // The evaluation's columns only for a grid whose runs evaluate.
  const bool evaluates = std::any_of(spec.extra_args.begin(), spec.extra_args.end(), [](const std::string& a) {
    return a == "--eval-every" || a.starts_with("--eval-every=");
  });
  for (const ImageGridMetric& m : kImageGridMetrics) {
    if (!evaluates && std::string_view(m.path).starts_with("evaluation/")) continue;
    d.metrics.push_back({m.path, m.header, m.decimals, true, -1,
                         [path = std::string(m.path)](const nlohmann::json& j) { return metric_at_path(j, path); }});
  }
  d.note = " on " + spec.dataset;
  d.extra_fields = {{"dataset", spec.dataset}};
  d.read_metrics = [](const std::string& folder) { return read_metrics(train::RunFolder(folder)); };
  return d;
}

}  // namespace

GridResult run_image_grid(const ImageGridSpec& spec) {
  validate_grid(spec);
  GridPlan plan;
  plan.title = "image grid";
  plan.shape = grid_shape({{spec.models.size(), "models"}, {spec.methods.size(), "methods"}}, spec.seeds);
  plan.settings = spec;
  plan.log_file = image::kImageLogFile;
  plan.summary = summary_definition(spec);
  // Every run's configuration, validated before anything on disk is touched.
  std::vector<image::ImageTrainConfig> configs;
  for (const auto& model : spec.models)
    for (const auto& method : spec.methods)
      for (int s = 0; s < spec.seeds; ++s) {
        GridRun run;
        run.folder = (std::filesystem::path(spec.out) / (model + "_" + method + "_seed" + std::to_string(s))).string();
        run.seed = s;
        run.row = configs.size() / static_cast<size_t>(spec.seeds);
        std::vector<std::string> args = {
            "--model",         model,   "--dataset", spec.dataset, "--steps", std::to_string(spec.steps), "--seed",
            std::to_string(s), "--out", run.folder,  "--quiet"};
        const std::vector<std::string> flags = method_flags(method);
        args.insert(args.end(), flags.begin(), flags.end());
        const std::vector<std::string> extra = extra_args_for(spec.extra_args, flags);
        args.insert(args.end(), extra.begin(), extra.end());
        configs.push_back(parse_image_train_config(args));
        configs.back().validate();
        run.args = {"image", "train"};
        run.args.insert(run.args.end(), args.begin(), args.end());
        plan.runs.push_back(std::move(run));
      }
  plan.inspect = [&plan, &configs](size_t i) { return inspect_run(plan.runs[i].folder, configs[i]); };
  return run_grid(plan);
}

}  // namespace gantry::cli
