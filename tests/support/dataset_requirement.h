#pragma once
// Tests that need a fetched dataset (MNIST: the README's test command fetches it) skip, saying why,
// when it cannot be opened — or fail, under GANTRY_REQUIRE_DATASETS=1, so CI cannot pass by skipping.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "engine/core/error.h"
#include "train/data/image_dataset.h"

namespace gantry::testing {

inline bool datasets_required() {
  const char* required = std::getenv("GANTRY_REQUIRE_DATASETS");
  return required && std::string(required) == "1";
}

// Empty when `spec` opens; otherwise why it does not.
inline std::string dataset_unavailable_reason(const std::string& spec) {
  try {
    data::open_image_dataset(spec);
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

}  // namespace gantry::testing

// In a test body: skip (or fail, under GANTRY_REQUIRE_DATASETS=1) when the dataset is not there.
#define GANTRY_SKIP_WITHOUT_DATASET(spec)                                                                  \
  do {                                                                                                     \
    const std::string why_unavailable = ::gantry::testing::dataset_unavailable_reason(spec);               \
    if (!why_unavailable.empty()) {                                                                        \
      if (::gantry::testing::datasets_required()) FAIL() << (spec) << " is required: " << why_unavailable; \
      GTEST_SKIP() << (spec) << " not fetched (" << why_unavailable << ")";                                \
    }                                                                                                      \
  } while (0)
