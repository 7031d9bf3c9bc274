#pragma once
// Integers out of parsed JSON without nlohmann's traps: get<int64_t>() converts a float with a cast
// that is undefined behaviour out of range (1e300) and wraps an unsigned value above INT64_MAX, and
// get<int>() or get<uint64_t>() wrap silently (4294967297 -> 1, -1 -> 2^64 - 1). These accept only
// JSON integers that fit the type.
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "engine/core/error.h"

namespace gantry::io {

// Nothing when `value` is not an integer within Int's range.
template <typename Int>
std::optional<Int> json_integer(const nlohmann::json& value) {
  if (value.is_number_unsigned()) {
    const uint64_t v = value.get<uint64_t>();
    if (std::in_range<Int>(v)) return static_cast<Int>(v);
  } else if (value.is_number_integer()) {
    const int64_t v = value.get<int64_t>();
    if (std::in_range<Int>(v)) return static_cast<Int>(v);
  }
  return std::nullopt;
}

// What a JSON value is, for messages (no dump of arbitrarily nested input).
std::string json_value_summary(const nlohmann::json& value);

// Throws gantry::Error "<what> must be an integer in [min, max], got ..." when it is not.
template <typename Int>
Int require_json_integer(const nlohmann::json& value, const std::string& what) {
  if (const auto v = json_integer<Int>(value)) return *v;
  GANTRY_FAIL(what, " must be an integer in [", +std::numeric_limits<Int>::min(), ", ",
              +std::numeric_limits<Int>::max(), "], got ", json_value_summary(value));
}

// The integer field `key` of a run configuration (throws "config: '<key>' must be ..." otherwise),
// and the same with a fallback when the field is absent.
template <typename Int>
Int config_integer(const nlohmann::json& j, const char* key) {
  return require_json_integer<Int>(j.at(key), std::string("config: '") + key + "'");
}
template <typename Int>
Int config_integer_or(const nlohmann::json& j, const char* key, Int fallback) {
  return j.contains(key) ? config_integer<Int>(j, key) : fallback;
}

}  // namespace gantry::io
