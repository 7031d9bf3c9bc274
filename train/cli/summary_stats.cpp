#include "train/cli/summary_stats.h"

#include <cmath>
#include <cstdio>

namespace gantry::cli {

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

std::string mean_pm_std(double mean, double std, size_t n, int decimals) {
  char text[64];
  if (n == 0) return "-";
  if (n == 1) std::snprintf(text, sizeof text, "%.*f", decimals, mean);
  else std::snprintf(text, sizeof text, "%.*f +- %.*f", decimals, mean, decimals, std);
  return text;
}

nlohmann::json stats_json(const MeanStd& s, const std::vector<double>& values) {
  return {{"mean", s.mean},
          {"std", values.size() > 1 ? nlohmann::json(s.std) : nlohmann::json(nullptr)},
          {"values", values}};
}

}  // namespace gantry::cli
