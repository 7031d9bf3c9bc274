#include "train/topk_schedule.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "engine/core/error.h"
#include "engine/io/json_integer.h"

namespace gantry::train {

double resolve_nu(double nu, int64_t batch_size) {
  GANTRY_CHECK(batch_size >= 1, "top-k: batch size must be >= 1, got ", batch_size);
  GANTRY_CHECK(std::isfinite(nu) && nu > 0, "top-k: nu must be a fraction in (0, 1) or a count in [1, B], got ",
               nu);
  if (nu < 1.0) return std::max(1.0, std::floor(nu * static_cast<double>(batch_size)));
  GANTRY_CHECK(nu == std::floor(nu), "top-k: nu >= 1 is a sample count and must be an integer, got ", nu);
  GANTRY_CHECK(nu <= static_cast<double>(batch_size), "top-k: nu (", nu,
               ") must not exceed the batch size ", batch_size);
  return nu;
}

double parse_nu(const std::string& text, int64_t batch_size) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  GANTRY_CHECK(!text.empty() && end && *end == '\0', "top-k: cannot parse nu '", text,
               "' (expected a fraction like 0.75 or a count like 192)");
  return resolve_nu(v, batch_size);
}

TopKSchedule::TopKSchedule(int64_t batch_size, double gamma, double nu_count, int64_t decay_every)
    : batch_(batch_size), gamma_(gamma), nu_(nu_count), decay_every_(decay_every),
      k_(static_cast<double>(batch_size)) {
  GANTRY_CHECK(batch_size >= 1, "TopKSchedule: batch size must be >= 1, got ", batch_size);
  GANTRY_CHECK(gamma > 0 && gamma <= 1, "TopKSchedule: gamma must be in (0, 1], got ", gamma);
  GANTRY_CHECK(nu_count >= 1 && nu_count <= static_cast<double>(batch_size),
               "TopKSchedule: nu must be in [1, batch size ", batch_size, "], got ", nu_count);
  GANTRY_CHECK(decay_every >= 1, "TopKSchedule: decay_every must be >= 1, got ", decay_every);
}

int64_t TopKSchedule::k() const { return static_cast<int64_t>(std::floor(k_)); }

void TopKSchedule::on_generator_step() {
  ++steps_;
  if (steps_ % decay_every_ == 0) k_ = std::max(gamma_ * k_, nu_);
}

nlohmann::json TopKSchedule::state() const {
  return nlohmann::json{{"k", k_}, {"generator_steps", steps_}};
}

void TopKSchedule::load_state(const nlohmann::json& state) {
  const double k = state.at("k").get<double>();
  const int64_t steps =
      io::require_json_integer<int64_t>(state.at("generator_steps"), "TopKSchedule::load_state: 'generator_steps'");
  GANTRY_CHECK(k >= nu_ && k <= static_cast<double>(batch_), "TopKSchedule::load_state: k ", k,
               " is outside [nu ", nu_, ", batch size ", batch_, "]");
  GANTRY_CHECK(steps >= 0, "TopKSchedule::load_state: negative step count ", steps);
  k_ = k;
  steps_ = steps;
}

}  // namespace gantry::train
