// The run-state metadata of a GAN checkpoint ("gantry_run_state": format, step, RNG state, top-k
// schedule) as train/checkpoint.cpp restores it. The tensors are a valid checkpoint of small MoG
// models, so every input reaches the metadata parsing; the input is the metadata's JSON text.
#include "tests/fuzz/harness_support.h"
#include "tests/support/small_mog_run.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gantry::testing::SmallMogRun;
  static SmallMogRun run;
  static gantry::io::TensorFile checkpoint = run.checkpoint(7);  // its metadata is replaced per input
  checkpoint.metadata["gantry_run_state"] = gantry::fuzz::as_string(data, size);
  const auto step = gantry::fuzz::accepted(
      [&] { return gantry::train::restore_checkpoint(checkpoint, "fuzz.safetensors", run.state); });
  if (!step) return 0;
  // An accepted state is one the run could be in.
  const auto& schedule = run.policy.schedule();
  gantry::fuzz::require(schedule.k() >= 1 && schedule.k() <= SmallMogRun::kBatch, "restored k is in [1, batch]");
  gantry::fuzz::require(schedule.generator_steps() >= 0, "restored step count is not negative");
  return 0;
}
