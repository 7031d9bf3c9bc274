#include "train/run_kind.h"

#include <algorithm>

namespace gantry::train {

std::string RunKind::option_of(const std::string& key) const {
  std::string option = key;
  std::replace(option.begin(), option.end(), '_', '-');
  return "--" + option;
}

std::optional<IdentityDifference> identity_difference(const nlohmann::json& a, const nlohmann::json& b,
                                                      const RunKind& kind) {
  const auto difference = [&](const std::string& key) {
    return IdentityDifference{key, kind.option_of(key), a.contains(key) ? a.at(key).dump() : "(off)",
                              b.contains(key) ? b.at(key).dump() : "(off)"};
  };
  // Settings both have first: the feature switches are among them, and a switch that differs says
  // more than the settings of the feature it turns on or off.
  for (const auto& [key, value] : a.items())
    if (b.contains(key) && b.at(key) != value) return difference(key);
  nlohmann::json keys = a;
  keys.update(b);
  for (const auto& [key, unused] : keys.items())
    if (a.contains(key) != b.contains(key)) return difference(key);
  return std::nullopt;
}

}  // namespace gantry::train
