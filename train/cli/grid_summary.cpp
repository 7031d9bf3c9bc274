#include "train/cli/grid_summary.h"

#include <cstdio>
#include <optional>

#include "engine/io/atomic_file.h"
#include "train/cli/summary_stats.h"

namespace gantry::cli {

namespace {

// One row's finished runs: every metric's value per run (nullopt where a run has none).
struct RowValues {
  std::vector<std::vector<std::optional<double>>> per_run;  // [run][metric]
  size_t runs() const { return per_run.size(); }
  std::vector<double> of(size_t metric) const {
    std::vector<double> values;
    for (const auto& run : per_run)
      if (run[metric]) values.push_back(*run[metric]);
    return values;
  }
};

std::string key_text(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

bool has_per_run_column(const GridSummaryDefinition& d) {
  for (const auto& m : d.metrics)
    if (m.per_run_decimals >= 0) return true;
  return false;
}

// "96.0 / 100, 92.5 / 100": the per-run metrics of each run of a row.
std::string per_run_text(const GridSummaryDefinition& d, const RowValues& row) {
  std::string text;
  for (size_t r = 0; r < row.runs(); ++r) {
    std::string cell;
    for (size_t m = 0; m < d.metrics.size(); ++m) {
      if (d.metrics[m].per_run_decimals < 0) continue;
      if (!cell.empty()) cell += " / ";
      const auto& value = row.per_run[r][m];
      cell += value ? fixed(*value, d.metrics[m].per_run_decimals) : "-";
    }
    if (r > 0) text += ", ";
    text += cell;
  }
  return text;
}

// The summary as a Markdown table (mean +- std over seeds, and the per-run values).
void write_summary_markdown(const std::string& path, const GridSummaryDefinition& d, const nlohmann::json& summary,
                            const std::vector<RowValues>& values) {
  const bool per_run = has_per_run_column(d);
  const auto add_cell = [](std::string& line, const std::string& cell) { line.append(" ").append(cell).append(" |"); };
  std::string header = "|", rule = "|";
  const auto column = [&](const std::string& name) {
    add_cell(header, name);
    rule += "---|";
  };
  for (const auto& k : d.key_columns) column(k.key);
  for (const auto& m : d.metrics) column(m.header);
  column("runs");
  if (per_run) column(d.per_run_header);
  std::string text = header;
  text.append("\n").append(rule).append("\n");
  for (size_t r = 0; r < d.rows.size(); ++r) {
    const RowValues& row = values[r];
    std::string line = "|";
    for (const auto& k : d.key_columns) add_cell(line, key_text(d.rows[r].at(k.key)));
    for (size_t m = 0; m < d.metrics.size(); ++m) {
      const std::vector<double> v = row.of(m);
      const MeanStd s = mean_std(v);
      add_cell(line, row.runs() == 0 ? "-" : mean_pm_std(s.mean, s.std, v.size(), d.metrics[m].decimals));
    }
    add_cell(line, std::to_string(row.runs()));
    if (per_run) {
      if (row.runs() == 0) line += " |";  // an empty cell
      else add_cell(line, per_run_text(d, row));
    }
    text.append(line).append("\n");
  }
  char footnote[512];
  std::snprintf(footnote, sizeof footnote,
                "\n%lld steps per run%s; std over seeds (N-1; none for a single run). %zu run(s) not finished yet, "
                "%zu failed.\n",
                static_cast<long long>(summary.at("steps").get<int64_t>()), d.note.c_str(),
                summary.at("pending_runs").size(), summary.at("failed_runs").size());
  io::write_file_atomic(path, text + footnote);
}

constexpr int kMetricConsoleWidth = 18;

void print_header(const GridSummaryDefinition& d) {
  std::printf("\n");
  for (const auto& k : d.key_columns) std::printf("%-*s ", k.console_width, k.key.c_str());
  for (const auto& m : d.metrics)
    if (m.on_console) std::printf("%-*s ", kMetricConsoleWidth, m.header.c_str());
  std::printf("runs\n");
}

void print_row(const GridSummaryDefinition& d, const nlohmann::json& keys, const RowValues& row) {
  for (const auto& k : d.key_columns) std::printf("%-*s ", k.console_width, key_text(keys.at(k.key)).c_str());
  for (size_t m = 0; m < d.metrics.size(); ++m) {
    if (!d.metrics[m].on_console) continue;
    const std::vector<double> v = row.of(m);
    const MeanStd s = mean_std(v);
    std::printf("%-*s ", kMetricConsoleWidth, mean_pm_std(s.mean, s.std, v.size(), d.metrics[m].decimals).c_str());
  }
  std::printf("%zu\n", row.runs());
}

}  // namespace

nlohmann::json write_grid_summary(const GridPlan& plan, const train::RunFolder& root,
                                  const std::vector<GridRunOutcome>& outcomes, const std::string& interrupted_by) {
  const GridSummaryDefinition& d = plan.summary;
  nlohmann::json rows = nlohmann::json::array();
  nlohmann::json failed = nlohmann::json::array();
  nlohmann::json pending = nlohmann::json::array();  // not finished: not run (summary-only) or stopped
  std::vector<RowValues> values(d.rows.size());
  print_header(d);
  for (size_t r = 0; r < d.rows.size(); ++r) {
    for (size_t i = 0; i < plan.runs.size(); ++i) {
      if (plan.runs[i].row != r) continue;
      const GridRunOutcome& o = outcomes[i];
      if (o.exit_status == -1 || (o.signalled && o.exit_status != 0)) {
        pending.push_back(plan.runs[i].folder);
        continue;
      }
      if (o.exit_status != 0) {
        failed.push_back({{"folder", plan.runs[i].folder}, {"exit_status", o.exit_status}});
        continue;
      }
      const nlohmann::json metrics = d.read_metrics(plan.runs[i].folder);
      std::vector<std::optional<double>> run;
      for (const auto& m : d.metrics) run.push_back(m.read(metrics));
      values[r].per_run.push_back(std::move(run));
    }
    print_row(d, d.rows[r], values[r]);
    nlohmann::json row = d.rows[r];
    row["runs"] = values[r].runs();
    for (size_t m = 0; m < d.metrics.size(); ++m) {
      const std::vector<double> v = values[r].of(m);
      row[d.metrics[m].key] = stats_json(mean_std(v), v);
    }
    rows.push_back(row);
  }
  nlohmann::json summary{{"steps", plan.settings.steps},
                         {"seeds", plan.settings.seeds},
                         {"rows", rows},
                         {"failed_runs", failed},
                         {"pending_runs", pending},
                         {"interrupted_by", interrupted_by.empty() ? nlohmann::json() : nlohmann::json(interrupted_by)},
                         {"std_note", "sample standard deviation over seeds (N-1); null for a single run"}};
  for (const auto& [key, value] : d.extra_fields.items()) summary[key] = value;
  root.write_json("summary.json", summary);
  write_summary_markdown(root.file("summary.md"), d, summary, values);
  return summary;
}

}  // namespace gantry::cli
