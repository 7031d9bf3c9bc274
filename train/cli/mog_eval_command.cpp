// gantry mog eval: re-evaluates a trained mixture-of-Gaussians run from its checkpoint, on one or
// several independent sample sets, so a run's numbers can be re-read at another sample count and the
// evaluation's own sampling noise measured next to the spread over training seeds.

#include <cstdio>
#include <filesystem>
#include <optional>

#include "engine/core/cpu_threads.h"
#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/npz.h"
#include "eval/plot/mog_scatter_plot.h"
#include "models/mog_mlp.h"
#include "train/cli/arg_parser.h"
#include "train/cli/mog_commands.h"
#include "train/cli/summary_stats.h"
#include "train/mog/mog_evaluation.h"
#include "train/mog/mog_experiment.h"
#include "train/mog/mog_run_loading.h"
#include "train/run_folder.h"

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
      .flag("stored",
            "re-score the final evaluation's samples stored in the run folder (eval_samples.npz)\n"
            "with today's metrics; needs no checkpoint, draws nothing")
      .flag("drs",
            "also evaluate discriminator rejection sampling (Azadi et al. 2018) of the same generator and\n"
            "critic on as many accepted samples per set, next to the plain samples")
      .option("drs-percentile", "P",
              "DRS: gamma per batch of proposals is this percentile of F (higher: fewer\n"
              "accepted)",
              "95")
      .option("drs-gamma", "G", "DRS: a fixed gamma instead of the percentile (0: exact rejection sampling)")
      .option("drs-burn-in", "N", "DRS: proposals that set the first max logit", "10000")
      .option("drs-critic-steps", "N",
              "DRS: critic updates on the final generator before sampling (the paper's\n"
              "KeepTraining; uses the checkpoint's critic optimiser and batch)",
              "0")
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

eval::RejectionSamplingOptions rejection_options(const ArgParser& p) {
  for (const char* name : {"drs-percentile", "drs-gamma", "drs-burn-in", "drs-critic-steps"})
    GANTRY_CHECK(!p.given(name) || p.flag_set("drs"), "--", name, " applies only with --drs");
  GANTRY_CHECK(!(p.given("drs-percentile") && p.given("drs-gamma")),
               "--drs-percentile and --drs-gamma are mutually exclusive");
  eval::RejectionSamplingOptions o;
  o.gamma_percentile = p.real("drs-percentile");
  if (p.given("drs-gamma")) o.gamma = p.real("drs-gamma");
  o.burn_in = p.int64("drs-burn-in");
  o.validate();
  GANTRY_CHECK(p.int64("drs-critic-steps") >= 0, "--drs-critic-steps: must be >= 0, got ", p.int64("drs-critic-steps"));
  return o;
}

// The DRS sets (same eval seeds as the plain ones): printed as a table, returned as JSON.
nlohmann::json evaluate_rejection_sampling(const ArgParser& p, const mog::LoadedMogRun& run,
                                           const data::MixtureOfGaussians& mixture, int64_t samples, int64_t first_seed,
                                           int64_t repeats, Device device) {
  const eval::RejectionSamplingOptions o = rejection_options(p);
  const int64_t critic_steps = p.int64("drs-critic-steps");
  run.critic->to(device);
  if (run.config.loss != "non-saturating")
    std::printf(
        "note: DRS reads the critic's score as log p_data / p_g, which holds for the non-saturating\n"
        "loss's critic, not for this run's %s critic\n",
        run.config.loss.c_str());
  if (critic_steps > 0) {
    std::printf("DRS: %lld critic updates on the final generator first\n", static_cast<long long>(critic_steps));
    mog::keep_training_critic(*run.generator, *run.critic, *run.critic_optimizer, mixture,
                              train::parse_gan_loss(run.config.loss), critic_steps, run.config.batch,
                              run.config.latent_dim, run.config.latent_prior(), static_cast<uint64_t>(first_seed),
                              device);
  }
  char rule[96];
  if (o.gamma) std::snprintf(rule, sizeof rule, "gamma %g", *o.gamma);
  else std::snprintf(rule, sizeof rule, "gamma per batch at the %gth percentile of F", o.gamma_percentile);
  std::printf("\ndiscriminator rejection sampling (%s, burn-in %lld):\n", rule, static_cast<long long>(o.burn_in));
  std::printf("%9s  %14s  %17s  %17s  %15s  %10s\n", "eval seed", "% high quality", "% modes recovered",
              "% modes assigned", "within-mode std", "% accepted");
  nlohmann::json sets = nlohmann::json::array();
  for (int64_t r = 0; r < repeats; ++r) {
    const uint64_t seed = static_cast<uint64_t>(first_seed + r);
    const mog::MogRejectionEvaluation e =
        mog::evaluate_with_rejection_sampling(*run.generator, *run.critic, mixture, samples, run.config.latent_dim,
                                              run.config.latent_prior(), seed, o, device);
    const eval::MogMetrics& m = e.evaluation.metrics;
    std::printf("%9llu  %14.2f  %9.2f (%lld/%lld)  %9.2f (%lld/%lld)  %15.4f  %10.2f\n",
                static_cast<unsigned long long>(seed), m.high_quality_percent, m.modes_recovered_percent,
                static_cast<long long>(m.modes_recovered), static_cast<long long>(m.num_modes),
                m.modes_assigned_percent, static_cast<long long>(m.modes_assigned), static_cast<long long>(m.num_modes),
                m.within_mode_std, 100.0 * e.sampling.acceptance_rate());
    nlohmann::json j = m.to_json();
    j["eval_seed"] = seed;
    j["proposed"] = e.sampling.proposed;
    j["accepted"] = e.sampling.accepted;
    j["acceptance_rate"] = e.sampling.acceptance_rate();
    j["max_logit"] = e.sampling.max_logit;
    sets.push_back(j);
  }
  nlohmann::json settings{{"burn_in", o.burn_in}, {"epsilon", o.epsilon}, {"critic_steps", critic_steps}};
  if (o.gamma) settings["gamma"] = *o.gamma;
  else settings["gamma_percentile"] = o.gamma_percentile;
  return nlohmann::json{
      {"method", "discriminator rejection sampling (Azadi et al. 2018)"}, {"settings", settings}, {"sets", sets}};
}

// --stored: the metrics of the samples the run's final evaluation drew, read back from its folder.
int rescore_stored_samples(const ArgParser& p, const std::string& run_path, const std::optional<std::string>& json_path,
                           const std::optional<std::string>& png_path) {
  for (const char* name : {"samples", "repeats", "eval-seed", "device"})
    GANTRY_CHECK(!p.given(name), "--", name, " does not apply with --stored (it re-scores the stored samples only)");
  GANTRY_CHECK(!p.flag_set("drs"), "--drs does not apply with --stored (it re-scores the stored samples only)");
  const std::filesystem::path folder(run_path);
  GANTRY_CHECK(std::filesystem::is_directory(folder), "--run: '", run_path, "' is not a run folder (--stored reads ",
               mog::kEvalSamplesFile, " from one)");
  const std::filesystem::path samples_file = folder / mog::kEvalSamplesFile;
  GANTRY_CHECK(std::filesystem::exists(samples_file), "--stored: '", samples_file.string(),
               "' does not exist (runs finished before gantry stored their evaluation samples have none; ",
               "re-evaluate from the checkpoint without --stored)");
  const train::RunFolder run(run_path);
  const mog::MogTrainConfig config = mog::MogTrainConfig::from_json(run.read_json(mog::kConfigFile));
  Tensor samples;
  for (auto& [name, array] : io::load_npz(samples_file.string()))
    if (name == "samples") samples = array;
  GANTRY_CHECK(samples.defined(), "--stored: '", samples_file.string(), "' has no 'samples' array");
  GANTRY_CHECK(samples.dim() == 2 && samples.size(1) == 2, "--stored: '", samples_file.string(),
               "' holds samples of shape ", shape_str(samples.shape()), ", expected [N, 2]");
  const data::MixtureOfGaussians mixture = config.mixture();
  const eval::MogMetrics m = eval::evaluate_mog_samples(samples, mixture);
  std::printf("mog eval: %s (%s, %lld modes), %lld stored samples of the final evaluation\n\n", samples_file.c_str(),
              config.method_name().c_str(), static_cast<long long>(config.modes),
              static_cast<long long>(m.num_samples));
  std::printf("%14s  %17s  %17s  %15s  %s\n", "% high quality", "% modes recovered", "% modes assigned",
              "within-mode std", "missed on the outer ring");
  std::printf("%14.2f  %9.2f (%lld/%lld)  %9.2f (%lld/%lld)  %15.4f  %lld of %lld\n", m.high_quality_percent,
              m.modes_recovered_percent, static_cast<long long>(m.modes_recovered), static_cast<long long>(m.num_modes),
              m.modes_assigned_percent, static_cast<long long>(m.modes_assigned), static_cast<long long>(m.num_modes),
              m.within_mode_std, static_cast<long long>(m.missed_on_outer_ring),
              static_cast<long long>(m.num_modes - m.modes_recovered));
  if (png_path) plot::write_mog_scatter_png(*png_path, samples, mixture);
  if (json_path)
    io::write_file_atomic(*json_path, nlohmann::json{{"run", run_path},
                                                     {"samples_file", samples_file.string()},
                                                     {"method", config.method_name()},
                                                     {"run_id", config.identity_hash()},
                                                     {"metrics", m.to_json()}}
                                              .dump(2) +
                                          "\n");
  if (json_path || png_path)
    std::printf("\nwrote%s%s%s%s\n", json_path ? " " : "", json_path ? json_path->c_str() : "", png_path ? " " : "",
                png_path ? png_path->c_str() : "");
  return 0;
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
  if (p.flag_set("stored")) return rescore_stored_samples(p, run_path, json_path, png_path);
  const Device device = mog::parse_available_device(p.str("device"));
  if (p.flag_set("drs") || p.given("drs-percentile") || p.given("drs-gamma") || p.given("drs-burn-in") ||
      p.given("drs-critic-steps"))
    rejection_options(p);  // bad DRS settings fail before anything is read or evaluated
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
  nlohmann::json drs;
  if (p.flag_set("drs")) drs = evaluate_rejection_sampling(p, run, mixture, samples, first_seed, repeats, device);
  if (json_path) {
    nlohmann::json out{{"run", run_path},
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
    if (!drs.is_null()) out["rejection_sampling"] = drs;
    io::write_file_atomic(*json_path, out.dump(2) + "\n");
  }
  if (json_path || png_path)
    std::printf("\nwrote%s%s%s%s\n", json_path ? " " : "", json_path ? json_path->c_str() : "", png_path ? " " : "",
                png_path ? png_path->c_str() : "");
  return 0;
}

}  // namespace gantry::cli
