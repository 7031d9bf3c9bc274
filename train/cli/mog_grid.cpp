#include "train/cli/mog_grid.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "engine/core/error.h"
#include "train/cli/child_process.h"
#include "train/cli/mog_commands.h"
#include "train/data/mixture_of_gaussians.h"
#include "train/run_folder.h"

namespace gantry::cli {

std::vector<std::string> method_flags(const std::string& method) {
  if (method == "baseline") return {};
  if (method == "topk") return {"--topk"};
  if (method == "bottomk") return {"--bottomk"};
  if (method == "coreset") return {"--coreset-prior", "--coreset-data"};
  if (method == "both") return {"--topk", "--coreset-prior", "--coreset-data"};
  GANTRY_FAIL("--methods: unknown method '", method, "' (expected baseline, topk, bottomk, coreset, both)");
}

namespace {

struct RunCell {
  int64_t modes;
  std::string method;
  int seed;
  std::string folder;
};

struct MeanStd {
  double mean = 0, std = 0;
};

MeanStd mean_std(const std::vector<double>& v) {
  MeanStd r;
  if (v.empty()) return r;
  for (double x : v) r.mean += x / static_cast<double>(v.size());
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - r.mean) * (x - r.mean);
    r.std = std::sqrt(ss / static_cast<double>(v.size() - 1));
  }
  return r;
}

}  // namespace

nlohmann::json run_mog_grid(const MogGridSpec& spec) {
  GANTRY_CHECK(!spec.modes.empty() && !spec.methods.empty(), "mog grid: --modes and --methods must not be empty");
  for (int64_t m : spec.modes)
    GANTRY_CHECK(data::perfect_square_side(m) > 0, "--modes: every entry must be a perfect square >= 1, got ", m);
  for (const auto& method : spec.methods) method_flags(method);
  GANTRY_CHECK(spec.seeds >= 1, "--seeds: must be >= 1, got ", spec.seeds);
  GANTRY_CHECK(spec.jobs >= 1, "--jobs: must be >= 1, got ", spec.jobs);
  GANTRY_CHECK(spec.steps >= 1, "--steps: must be >= 1, got ", spec.steps);
  train::RunFolder root(spec.out);
  const int64_t decay_every =
      spec.decay_every > 0 ? spec.decay_every : std::max<int64_t>(1, spec.steps * 2000 / 100000);

  std::vector<RunCell> cells;
  std::vector<ChildJob> jobs;
  const std::string exe = self_executable_path();
  for (int64_t m : spec.modes)
    for (const auto& method : spec.methods)
      for (int s = 0; s < spec.seeds; ++s) {
        RunCell cell{m, method, s, root.file("m" + std::to_string(m) + "_" + method + "_seed" + std::to_string(s))};
        std::filesystem::create_directories(cell.folder);
        ChildJob job;
        job.argv = {exe, "mog", "train", "--modes", std::to_string(m), "--steps", std::to_string(spec.steps),
                    "--seed", std::to_string(s), "--decay-every", std::to_string(decay_every), "--out", cell.folder,
                    "--quiet"};
        for (const auto& f : method_flags(method)) job.argv.push_back(f);
        for (const auto& a : spec.extra_args) job.argv.push_back(a);
        job.log_path = cell.folder + "/stdout.log";
        cells.push_back(cell);
        jobs.push_back(job);
      }
  std::printf("mog grid: %zu runs (%zu modes x %zu methods x %d seeds), %lld steps each, %d at a time -> %s\n",
              jobs.size(), spec.modes.size(), spec.methods.size(), spec.seeds, static_cast<long long>(spec.steps),
              spec.jobs, spec.out.c_str());
  std::fflush(stdout);
  size_t done = 0;
  run_child_jobs(jobs, spec.jobs, [&](size_t i) {
    ++done;
    std::printf("  [%zu/%zu] %s %s\n", done, jobs.size(), jobs[i].exit_status == 0 ? "done  " : "FAILED",
                cells[i].folder.c_str());
    std::fflush(stdout);
  });

  // Aggregate per (modes, method), in the order given.
  nlohmann::json rows = nlohmann::json::array();
  nlohmann::json failed = nlohmann::json::array();
  std::map<std::pair<int64_t, std::string>, std::vector<size_t>> groups;
  for (size_t i = 0; i < cells.size(); ++i) groups[{cells[i].modes, cells[i].method}].push_back(i);
  std::printf("\n%-6s %-10s %-18s %-18s %s\n", "modes", "method", "% high quality", "% modes recovered", "runs");
  for (int64_t m : spec.modes)
    for (const auto& method : spec.methods) {
      std::vector<double> hq, rec;
      for (size_t i : groups[{m, method}]) {
        if (jobs[i].exit_status != 0) {
          failed.push_back({{"folder", cells[i].folder}, {"exit_status", jobs[i].exit_status}});
          continue;
        }
        const auto metrics = train::RunFolder(cells[i].folder).read_json("metrics.json");
        hq.push_back(metrics.at("final").at("high_quality_percent").get<double>());
        rec.push_back(metrics.at("final").at("modes_recovered_percent").get<double>());
      }
      const MeanStd h = mean_std(hq), r = mean_std(rec);
      char hq_text[32], rec_text[32];
      std::snprintf(hq_text, sizeof hq_text, "%.1f +- %.1f", h.mean, h.std);
      std::snprintf(rec_text, sizeof rec_text, "%.1f +- %.1f", r.mean, r.std);
      std::printf("%-6lld %-10s %-18s %-18s %zu\n", static_cast<long long>(m), method.c_str(), hq_text, rec_text,
                  hq.size());
      rows.push_back({{"modes", m},
                      {"method", method},
                      {"runs", hq.size()},
                      {"high_quality_percent", {{"mean", h.mean}, {"std", h.std}, {"values", hq}}},
                      {"modes_recovered_percent", {{"mean", r.mean}, {"std", r.std}, {"values", rec}}}});
    }
  const nlohmann::json summary{{"steps", spec.steps},   {"decay_every", decay_every}, {"seeds", spec.seeds},
                               {"rows", rows},          {"failed_runs", failed},
                               {"std_note", "sample standard deviation over seeds (N-1)"}};
  root.write_json("summary.json", summary);
  std::printf("\nsummary: %s\n", root.file("summary.json").c_str());
  if (!failed.empty()) std::printf("%zu run(s) failed; see their stdout.log\n", failed.size());
  return summary;
}

}  // namespace gantry::cli
