#include "eval/update_direction_report.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "engine/core/error.h"
#include "eval/plot/grouped_bar_chart.h"

namespace gantry::eval {

namespace {

constexpr plot::Rgb kTopColor{46, 139, 87};
constexpr plot::Rgb kBottomColor{200, 60, 50};

void check_same_bins(const UpdateDirectionResult& a, const UpdateDirectionResult& b) {
  GANTRY_CHECK(a.bins.size() == b.bins.size(), "update-direction report: the results have ", a.bins.size(),
               " and ", b.bins.size(), " bins");
  for (size_t i = 0; i < a.bins.size(); ++i)
    GANTRY_CHECK(a.bins[i].lower_std == b.bins[i].lower_std && a.bins[i].upper_std == b.bins[i].upper_std,
                 "update-direction report: bin ", i, " differs between the results (", bin_label(a.bins[i]),
                 " vs ", bin_label(b.bins[i]), ")");
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

std::string bin_label(const DirectionBin& bin) {
  if (std::isinf(bin.upper_std)) return ">" + number(bin.lower_std);
  return number(bin.lower_std) + "-" + number(bin.upper_std);
}

std::string format_direction_table(const UpdateDirectionResult& a, const UpdateDirectionResult& b) {
  check_same_bins(a, b);
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof line, "%-9s | %-34s | %s\n", "", (std::string(kept_samples_name(a.kept)) + " (k " +
                std::to_string(a.k) + ")").c_str(), (std::string(kept_samples_name(b.kept)) + " (k " +
                std::to_string(b.k) + ")").c_str());
  out << line;
  std::snprintf(line, sizeof line, "%-9s | %6s %12s %14s | %6s %12s %14s\n", "bin (std)", "count", "mean cos",
                "mean d(dist)", "count", "mean cos", "mean d(dist)");
  out << line;
  // Empty bins show dashes rather than a mean of nothing.
  const auto cell = [](int64_t count, double cosine, double change) {
    char buf[64];
    if (count == 0) std::snprintf(buf, sizeof buf, "%6d %12s %14s", 0, "-", "-");
    else std::snprintf(buf, sizeof buf, "%6lld %12.4f %14.3e", static_cast<long long>(count), cosine, change);
    return std::string(buf);
  };
  const auto row = [&](const std::string& label, int64_t ca, double cosa, double da, int64_t cb, double cosb,
                       double db) {
    std::snprintf(line, sizeof line, "%-9s | %s | %s\n", label.c_str(), cell(ca, cosa, da).c_str(),
                  cell(cb, cosb, db).c_str());
    out << line;
  };
  for (size_t i = 0; i < a.bins.size(); ++i)
    row(bin_label(a.bins[i]), a.bins[i].count, a.bins[i].mean_cosine, a.bins[i].mean_distance_change,
        b.bins[i].count, b.bins[i].mean_cosine, b.bins[i].mean_distance_change);
  row("all", static_cast<int64_t>(a.movements.size()), a.mean_cosine, a.mean_distance_change,
      static_cast<int64_t>(b.movements.size()), b.mean_cosine, b.mean_distance_change);
  return out.str();
}

std::string direction_csv(const UpdateDirectionResult& a, const UpdateDirectionResult& b) {
  check_same_bins(a, b);
  std::ostringstream out;
  out << "selection,bin,lower_std,upper_std,count,mean_cosine,mean_distance_change\n";
  out.precision(9);
  for (const UpdateDirectionResult* r : {&a, &b}) {
    for (const DirectionBin& bin : r->bins)
      out << kept_samples_name(r->kept) << ',' << bin_label(bin) << ',' << bin.lower_std << ','
          << (std::isinf(bin.upper_std) ? std::string("inf") : number(bin.upper_std)) << ',' << bin.count << ','
          << bin.mean_cosine << ',' << bin.mean_distance_change << '\n';
    out << kept_samples_name(r->kept) << ",all,0,inf," << r->movements.size() << ',' << r->mean_cosine << ','
        << r->mean_distance_change << '\n';
  }
  return out.str();
}

std::string render_direction_chart_png(const UpdateDirectionResult& top, const UpdateDirectionResult& bottom) {
  check_same_bins(top, bottom);
  const auto panel = [&](double DirectionBin::*field) {
    plot::BarPanel p;
    for (const auto& [r, color] : {std::pair{&top, kTopColor}, std::pair{&bottom, kBottomColor}}) {
      plot::BarSeries s{{}, color};
      for (const DirectionBin& bin : r->bins) s.values.push_back(bin.*field);
      p.series.push_back(std::move(s));
    }
    return p;
  };
  return plot::render_bar_panels_png({panel(&DirectionBin::mean_cosine), panel(&DirectionBin::mean_distance_change)});
}

}  // namespace gantry::eval
