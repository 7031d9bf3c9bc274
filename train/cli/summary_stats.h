#pragma once
// Mean and sample standard deviation of a metric over runs (seeds, or evaluation sample sets), in the
// forms the summaries print ("96.5 +- 1.0") and write (JSON with the values).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gantry::cli {

struct MeanStd {
  double mean = 0, std = 0;  // std with N-1; 0 for fewer than two values
};

MeanStd mean_std(const std::vector<double>& v);

// "mean +- std" over n values; a single value has no spread to show, and none shows "-".
std::string mean_pm_std(double mean, double std, size_t n, int decimals);

// {"mean", "std", "values"}; the sample std is undefined for one value: null.
nlohmann::json stats_json(const MeanStd& s, const std::vector<double>& values);

}  // namespace gantry::cli
