#include "train/experiment_loop.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>

#include "train/progress_display.h"

namespace gantry::train {

double ExperimentLoopResult::steps_per_second() const {
  return seconds > 0 ? static_cast<double>(steps_done - first_step) / seconds : 0;
}

ExperimentLoopResult run_experiment_loop(GanTrainer& trainer, JsonLinesLog& log, const ExperimentLoopOptions& o) {
  ExperimentLoopResult r;
  r.first_step = trainer.steps_done();
  r.last_step = o.stop_after >= 0 ? std::min(o.total_steps, r.first_step + o.stop_after) : o.total_steps;
  std::unique_ptr<ProgressDisplay> progress;
  if (o.progress)
    progress = std::make_unique<ProgressDisplay>(o.progress, r.first_step, std::max<int64_t>(1, o.total_steps / 20));
  ProgressSnapshot snapshot{r.first_step, o.total_steps};
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  trainer.run(r.last_step, &log, [&](const GanStepStats& s) {
    if (o.on_step) o.on_step(s);
    if (o.after_step) o.after_step(s);
    if (o.checkpoint_every > 0 && s.step % o.checkpoint_every == 0) {
      o.save_checkpoint(s.step);
      trainer.note_checkpoint(s.step);
    }
    snapshot = {s.step, o.total_steps, s.critic_loss, s.generator_loss, s.k};
    if (progress) progress->update(snapshot);
  });
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Wall time counts any time the process was stopped or waited for a core; CPU time (all threads) does not.
  r.cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  if (progress) progress->finish(snapshot);
  r.steps_done = trainer.steps_done();
  r.trained = r.steps_done > r.first_step || !o.resumed;
  if (r.trained) o.save_checkpoint(r.steps_done);
  r.stopped = r.steps_done < r.last_step;
  return r;
}

void keep_training_timing(const RunFolder& folder, const std::string& metrics_file, int64_t step,
                          nlohmann::json& metrics) {
  if (!folder.exists(metrics_file)) return;
  const nlohmann::json old = folder.read_json(metrics_file);
  if (old.value("step", int64_t{-1}) != step) return;
  for (const char* key : {"steps_per_second", "train_seconds", "train_cpu_seconds", "machine"})
    if (old.contains(key)) metrics[key] = old[key];
}

void print_notes(const std::vector<std::string>& notes, std::FILE* stream) {
  if (!stream) return;
  for (const auto& note : notes) std::fprintf(stream, "%s\n", note.c_str());
  std::fflush(stream);
}

}  // namespace gantry::train
