#pragma once
// Checks shared by the tests that interrupt a grid (`gantry mog grid`, `gantry image grid`).
#include <cstdint>
#include <string>
#include <vector>

namespace gantry::testing {

// Runs the interrupted grid's command again (`args`, output into output_path) and checks that it
// resumes each of `runs` (folders in `out`) from its checkpoint, finishes it at `steps`, and writes a
// summary with nothing pending, not interrupted, one run in every row.
void expect_grid_resumes_to_the_end(const std::vector<std::string>& args, const std::string& output_path,
                                    const std::string& out, const std::vector<std::string>& runs, int64_t steps);

}  // namespace gantry::testing
