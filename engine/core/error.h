#pragma once
// Errors at API edges: one exception type whose message names the op, the shapes and what was expected.
#include <sstream>
#include <stdexcept>
#include <string>

namespace gantry {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace gantry

// GANTRY_CHECK(cond, "op: message ", value, ...) throws gantry::Error with the streamed message.
#define GANTRY_CHECK(cond, ...)                                              \
  do {                                                                       \
    if (!(cond)) throw ::gantry::Error(::gantry::detail::concat(__VA_ARGS__)); \
  } while (0)

#define GANTRY_FAIL(...) throw ::gantry::Error(::gantry::detail::concat(__VA_ARGS__))
