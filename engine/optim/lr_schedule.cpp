#include "engine/optim/lr_schedule.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <vector>

#include "engine/core/error.h"
#include "engine/io/json_integer.h"
#include "engine/optim/optimizer.h"

namespace gantry::optim {
namespace {

constexpr const char* kGrammar =
    "expected constant, linear:START:END, linear:START:END:FINAL, or one of them after warmup:N+";

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t begin = 0;
  while (true) {
    const size_t end = text.find(separator, begin);
    parts.push_back(text.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
    if (end == std::string::npos) return parts;
    begin = end + 1;
  }
}

// A non-negative step count written in decimal digits only.
int64_t parse_step(const std::string& part, const char* what) {
  int64_t value = -1;
  const char* end = part.data() + part.size();
  const auto [ptr, ec] = std::from_chars(part.data(), end, value);
  GANTRY_CHECK(!part.empty() && part[0] != '-' && part[0] != '+' && ec == std::errc() && ptr == end, what, " '", part,
               "' is not a step count (a non-negative integer)");
  return value;
}

double parse_rate(const std::string& part, const char* what) {
  double value = 0;
  const char* end = part.data() + part.size();
  const auto [ptr, ec] = std::from_chars(part.data(), end, value);
  GANTRY_CHECK(!part.empty() && ec == std::errc() && ptr == end, what, " '", part, "' is not a number");
  return value;
}

// The fields of "constant" or "linear:START:END[:FINAL]".
struct DecayText {
  bool linear = false;
  int64_t start = 0, end = 0;
  double final_lr = 0;
};

DecayText parse_decay(const std::string& text) {
  if (text == "constant") return {};
  const std::vector<std::string> parts = split(text, ':');
  GANTRY_CHECK(parts[0] == "linear", "unknown schedule '", text, "' (", kGrammar, ")");
  GANTRY_CHECK(parts.size() == 3 || parts.size() == 4, "'", text, "' has ", parts.size() - 1,
               " fields after 'linear' (expected START:END or START:END:FINAL)");
  return DecayText{true, parse_step(parts[1], "START"), parse_step(parts[2], "END"),
                   parts.size() == 4 ? parse_rate(parts[3], "FINAL") : 0.0};
}

std::string format_rate(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", v);  // exact round trip through parse
  return buffer;
}

}  // namespace

LrSchedule LrSchedule::checked(double base_lr, bool linear, int64_t start, int64_t end, double final_lr,
                               int64_t warmup) {
  GANTRY_CHECK(std::isfinite(base_lr) && base_lr >= 0, "the base learning rate must be finite and >= 0, got ", base_lr);
  if (linear) {
    GANTRY_CHECK(start >= 0, "the decay start must be >= 0, got ", start);
    GANTRY_CHECK(end > start, "the decay end (", end, ") must be after its start (", start, ")");
    GANTRY_CHECK(std::isfinite(final_lr) && final_lr >= 0, "the final learning rate must be finite and >= 0, got ",
                 final_lr);
  }
  GANTRY_CHECK(warmup >= 0, "the warm-up must be >= 0 steps, got ", warmup);
  LrSchedule s;
  s.base_lr_ = base_lr;
  s.linear_ = linear;
  s.start_ = linear ? start : 0;
  s.end_ = linear ? end : 0;
  s.final_lr_ = linear ? final_lr : 0;
  s.warmup_ = warmup;
  return s;
}

LrSchedule LrSchedule::constant(double base_lr) {
  try {
    return checked(base_lr, false, 0, 0, 0, 0);
  } catch (const Error& e) {
    GANTRY_FAIL("LrSchedule: ", e.what());
  }
}

LrSchedule LrSchedule::linear(double base_lr, int64_t start, int64_t end, double final_lr) {
  try {
    return checked(base_lr, true, start, end, final_lr, 0);
  } catch (const Error& e) {
    GANTRY_FAIL("LrSchedule: ", e.what());
  }
}

LrSchedule LrSchedule::with_warmup(int64_t steps) const {
  try {
    return checked(base_lr_, linear_, start_, end_, final_lr_, steps);
  } catch (const Error& e) {
    GANTRY_FAIL("LrSchedule: ", e.what());
  }
}

LrSchedule LrSchedule::parse(const std::string& text, double base_lr) {
  try {
    const size_t plus = text.find('+');
    int64_t warmup = 0;
    std::string decay = text;
    if (text.rfind("warmup:", 0) == 0) {
      warmup = parse_step(text.substr(7, plus == std::string::npos ? std::string::npos : plus - 7), "the warm-up N");
      GANTRY_CHECK(warmup >= 1, "the warm-up N must be >= 1, got ", warmup);
      decay = plus == std::string::npos ? "constant" : text.substr(plus + 1);
    } else {
      GANTRY_CHECK(plus == std::string::npos, "'+' may only follow a warm-up (", kGrammar, ")");
    }
    const DecayText d = parse_decay(decay);
    return checked(base_lr, d.linear, d.start, d.end, d.final_lr, warmup);
  } catch (const Error& e) {
    GANTRY_FAIL("lr schedule '", text, "': ", e.what());
  }
}

std::string LrSchedule::to_string() const {
  std::ostringstream out;
  if (warmup_ > 0) out << "warmup:" << warmup_ << "+";
  if (!linear_) {
    out << "constant";
  } else {
    out << "linear:" << start_ << ":" << end_;
    if (final_lr_ != 0) out << ":" << format_rate(final_lr_);
  }
  return out.str();
}

nlohmann::json LrSchedule::to_json() const {
  nlohmann::json j{{"base_lr", base_lr_}, {"warmup_steps", warmup_}, {"decay", linear_ ? "linear" : "constant"}};
  if (linear_) {
    j["decay_start"] = start_;
    j["decay_end"] = end_;
    j["final_lr"] = final_lr_;
  }
  return j;
}

LrSchedule LrSchedule::from_json(const nlohmann::json& j) {
  GANTRY_CHECK(j.is_object(), "lr schedule JSON: expected an object, got ", io::json_value_summary(j));
  const auto field = [&](const char* key) -> const nlohmann::json& {
    GANTRY_CHECK(j.contains(key), "lr schedule JSON: '", key, "' is missing");
    return j.at(key);
  };
  const auto number = [&](const char* key) {
    const nlohmann::json& v = field(key);
    GANTRY_CHECK(v.is_number(), "lr schedule JSON: '", key, "' must be a number, got ", io::json_value_summary(v));
    return v.get<double>();
  };
  const auto step = [&](const char* key) {
    return io::require_json_integer<int64_t>(field(key), std::string("lr schedule JSON: '") + key + "'");
  };
  const nlohmann::json& decay = field("decay");
  GANTRY_CHECK(decay == "constant" || decay == "linear", "lr schedule JSON: 'decay' must be \"constant\" or ",
               "\"linear\", got ", io::json_value_summary(decay));
  const bool linear = decay == "linear";
  const double base_lr = number("base_lr");
  const int64_t warmup = step("warmup_steps");
  const int64_t start = linear ? step("decay_start") : 0, end = linear ? step("decay_end") : 0;
  const double final_lr = linear ? number("final_lr") : 0;
  try {
    return checked(base_lr, linear, start, end, final_lr, warmup);
  } catch (const Error& e) {
    GANTRY_FAIL("lr schedule JSON: ", e.what());
  }
}

double LrSchedule::lr_at(int64_t step) const {
  GANTRY_CHECK(step >= 0, "LrSchedule::lr_at: the step must be >= 0, got ", step);
  double factor = 1.0;
  if (warmup_ > 0 && step < warmup_) factor = static_cast<double>(step + 1) / static_cast<double>(warmup_);
  if (!linear_ || step <= start_) return base_lr_ * factor;
  if (step >= end_) return final_lr_ * factor;
  const double progress = static_cast<double>(step - start_) / static_cast<double>(end_ - start_);
  return (base_lr_ + (final_lr_ - base_lr_) * progress) * factor;
}

void LrSchedule::apply(Optimizer& optimizer, int64_t step) const { optimizer.set_lr(lr_at(step)); }

}  // namespace gantry::optim
