#pragma once
// Checks that a call fails with a gantry::Error whose message names what it should (the op, the
// offending shapes or values), so bad-input tests verify the message and not just the throw.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/core/error.h"

namespace gantry::testing {

template <typename Fn>
::testing::AssertionResult throws_error_mentioning(Fn&& fn, const std::vector<std::string>& fragments) {
  try {
    fn();
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const std::string& f : fragments)
      if (msg.find(f) == std::string::npos)
        return ::testing::AssertionFailure() << "error message \"" << msg << "\" does not mention \"" << f << "\"";
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no gantry::Error was thrown";
}

}  // namespace gantry::testing
