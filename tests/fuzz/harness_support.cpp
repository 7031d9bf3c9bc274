#include "tests/fuzz/harness_support.h"

#include <cstdio>
#include <cstdlib>

namespace gantry::fuzz {

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz property violated: %s\n", what);
  std::abort();
}

}  // namespace gantry::fuzz
