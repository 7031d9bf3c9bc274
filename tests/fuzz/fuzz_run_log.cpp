// A run folder's log.jsonl as it is read back: on resume (keep_log_records, which JsonLinesLog's
// resuming constructor uses) and by the grid's progress line (last_logged_step_in_tail, on the tail
// last_logged_step reads). The input's first 8 bytes give the step the run resumes at.
#include <cstring>

#include "tests/fuzz/harness_support.h"
#include "train/run_folder.h"
#include "train/run_progress.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int64_t last_step = 0;
  if (size >= sizeof last_step) {
    std::memcpy(&last_step, data, sizeof last_step);
    data += sizeof last_step;
    size -= sizeof last_step;
  }
  const std::string text = gantry::fuzz::as_string(data, size);
  const auto kept =
      gantry::fuzz::accepted([&] { return gantry::train::keep_log_records(text, last_step, "log.jsonl"); });
  if (kept) gantry::fuzz::require(kept->lines.size() == kept->records.size(), "one record per kept line");
  // The progress line reads at most the last 4096 bytes; it must never fail.
  const size_t from = text.size() > 4096 ? text.size() - 4096 : 0;
  gantry::train::last_logged_step_in_tail(text.substr(from), from > 0);
  return 0;
}
