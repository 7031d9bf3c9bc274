#include "engine/io/json_integer.h"

namespace gantry::io {

std::string json_value_summary(const nlohmann::json& value) {
  if (value.is_number() || value.is_boolean() || value.is_null()) return value.dump();
  return std::string("a JSON ") + value.type_name();
}

}  // namespace gantry::io
