#pragma once
// Presenting a top-k vs bottom-k update-direction comparison (eval/update_direction.h): the printed
// table, CSV rows, the JSON document and the grouped bar chart (mean cosine and mean distance change
// per bin; top-k green, bottom-k red).
#include <string>

#include <nlohmann/json.hpp>

#include "eval/update_direction.h"

namespace gantry::eval {

// "0-1", "1-2", ..., ">4" (std units).
std::string bin_label(const DirectionBin& bin);

// Fixed-width table: bin, then count / mean cosine / mean distance change for each result.
// The two results must have the same bins (throws gantry::Error otherwise).
std::string format_direction_table(const UpdateDirectionResult& a, const UpdateDirectionResult& b);
// Header "selection,bin,lower_std,upper_std,count,mean_cosine,mean_distance_change", one row per bin
// of each result, then an "all" row per result.
std::string direction_csv(const UpdateDirectionResult& a, const UpdateDirectionResult& b);
// Two stacked panels (mean cosine, then mean distance change), one group of bars per bin.
std::string render_direction_chart_png(const UpdateDirectionResult& top, const UpdateDirectionResult& bottom);

}  // namespace gantry::eval
