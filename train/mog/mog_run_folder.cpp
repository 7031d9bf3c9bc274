#include "train/mog/mog_run_folder.h"

#include "train/mog/mog_run_kind.h"

namespace gantry::mog {

RecordedRun recorded_run_to_resume(const std::string& folder) {
  return as_mog_run(train::recorded_run_to_resume(folder, mog_run_kind()));
}

std::vector<std::string> run_files_in(const std::string& folder) { return train::run_files_in(folder, mog_run_kind()); }

train::TakenRunFolder take_run_folder(const MogTrainConfig& c, bool resume, bool restart) {
  return train::take_run_folder({c.out, recorded_config(c), resume, restart}, mog_run_kind());
}

}  // namespace gantry::mog
