#pragma once
// Step-numbered copies of a run's checkpoint, so a run can go back further than its latest one:
// "<folder>/step_0001000.safetensors", the newest `keep` kept. A copy is a hard link to the latest
// checkpoint file when the file system allows (the latest is replaced by renames, so the link keeps
// the old contents), a copy otherwise; both are complete before they get their name.
#include <cstdint>
#include <string>
#include <vector>

namespace gantry::train {

std::string step_checkpoint_name(int64_t step);
// Adds the copy of `latest` for `step` into `folder` (created) and removes the oldest beyond `keep`
// (keep 0: no copies at all).
void keep_step_checkpoint(const std::string& latest, const std::string& folder, int64_t step, int64_t keep);
// The step-numbered checkpoints in `folder`, oldest first.
std::vector<std::string> step_checkpoints_in(const std::string& folder);

}  // namespace gantry::train
