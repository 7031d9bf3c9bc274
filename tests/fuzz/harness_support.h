#pragma once
// Shared by the fuzz harnesses: the one answer a parser may give to hostile input besides accepting
// it is a gantry::Error (the clear message naming the file that the CLI prints). Any other exception
// escapes the harness, and libFuzzer reports it as a crash, like an out-of-bounds read, a leak or
// undefined behaviour.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "engine/core/error.h"

namespace gantry::fuzz {

inline std::string as_string(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// The parser's result, or nothing when it rejected the input with a gantry::Error.
template <typename Parse>
auto accepted(Parse&& parse) -> std::optional<decltype(parse())> {
  try {
    return parse();
  } catch (const gantry::Error&) {
    return std::nullopt;
  }
}

// A property every accepted input must have (e.g. a round trip); aborts so libFuzzer saves the input.
void require(bool ok, const char* what);

}  // namespace gantry::fuzz
