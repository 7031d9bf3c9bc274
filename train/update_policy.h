#pragma once
// Which fake samples contribute to the adversarial terms of a step. The full-batch policy keeps all;
// the top-k policy (top-k paper) keeps the k fakes the critic scores highest (bottom-k: lowest) with
// k from a TopKSchedule, applied to the generator's loss ("G"), the critic's fake term ("D") or both
// ("G&D"). Selection returns a differentiable subset of the scores, so the discarded samples get
// exactly zero gradient. The soft top-k policy (an ablation) keeps every fake and weights each by its
// score instead of 0/1, as sharply as the schedule's k says.
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/core/tensor.h"
#include "train/topk_schedule.h"

namespace gantry::train {

class GeneratorUpdatePolicy {
 public:
  virtual ~GeneratorUpdatePolicy() = default;
  // fake_scores: [B] or [B, 1]. Returns the scores the generator's adversarial loss averages.
  virtual Tensor select_for_generator(const Tensor& fake_scores) const = 0;
  // Per-sample weights (summing to 1, no gradient) of the scores select_for_generator returned, for a
  // weighted generator loss; undefined (the default): the loss averages them.
  virtual Tensor generator_weights(const Tensor& selected_scores) const { return Tensor(); }
  // The scores the critic's fake term averages.
  virtual Tensor select_for_critic(const Tensor& fake_scores) const = 0;
  // Called once after every generator step (advances schedules).
  virtual void on_generator_step() {}
  // The number of fakes a generator step uses now (B for the full batch).
  virtual int64_t current_k(int64_t batch_size) const = 0;
  virtual std::string describe() const = 0;
  // Checkpointed state (empty for stateless policies).
  virtual nlohmann::json state() const { return nlohmann::json::object(); }
  virtual void load_state(const nlohmann::json&) {}
};

class FullBatchPolicy final : public GeneratorUpdatePolicy {
 public:
  Tensor select_for_generator(const Tensor& fake_scores) const override { return fake_scores; }
  Tensor select_for_critic(const Tensor& fake_scores) const override { return fake_scores; }
  int64_t current_k(int64_t batch_size) const override { return batch_size; }
  std::string describe() const override { return "full batch"; }
};

// Which fakes a run's generator step uses: all of them, the top-k, the bottom-k, or all weighted by
// score (soft top-k).
enum class BatchSelection { full, top_k, bottom_k, soft_top_k };
const char* batch_selection_name(BatchSelection s);            // "full", "top-k", "bottom-k", "soft-top-k"
BatchSelection parse_batch_selection(const std::string& s);    // throws naming the valid choices

enum class SelectionTarget { generator, critic, both };
// "g", "d", "gd" (also "G", "D", "G&D"); throws naming the valid choices.
SelectionTarget parse_selection_target(const std::string& text);
const char* selection_target_name(SelectionTarget target);

// The k scores along dim 0 with the highest (keep_highest) or lowest values, ties by lower index;
// differentiable (gradient scattered back to the kept rows only). k in [1, B].
Tensor select_k_scores(const Tensor& scores, int64_t k, bool keep_highest);

class TopKPolicy final : public GeneratorUpdatePolicy {
 public:
  // keep_highest = false gives bottom-k.
  TopKPolicy(TopKSchedule schedule, SelectionTarget target, bool keep_highest = true);

  Tensor select_for_generator(const Tensor& fake_scores) const override;
  Tensor select_for_critic(const Tensor& fake_scores) const override;
  void on_generator_step() override { schedule_.on_generator_step(); }
  int64_t current_k(int64_t) const override { return schedule_.k(); }
  std::string describe() const override;
  nlohmann::json state() const override { return schedule_.state(); }
  void load_state(const nlohmann::json& state) override { schedule_.load_state(state); }
  const TopKSchedule& schedule() const { return schedule_; }

 private:
  Tensor select(const Tensor& fake_scores, bool applies) const;
  TopKSchedule schedule_;
  SelectionTarget target_;
  bool keep_highest_;
};

// Soft top-k weights of B scores: w_i proportional to exp(beta * s_i), with beta >= 0 chosen so that the
// weights' effective sample size (sum w)^2 / sum w^2 equals `k` (to 1e-9 relative): k = B gives
// uniform weights, a smaller k leans on the highest scores as much as keeping k of them would, and
// k = 1 puts (nearly) all weight on the best. [B] in the scores' dtype and device, summing to 1, no
// gradient.
// Ties and equal scores get equal weights; when every score is equal the weights are uniform.
Tensor soft_topk_weights(const Tensor& scores, double k);

// Soft top-k on the generator loss: every fake counts, weighted by soft_topk_weights with the
// schedule's k (real, not floored), so it follows the same decay as top-k. The critic is unaffected.
class SoftTopKPolicy final : public GeneratorUpdatePolicy {
 public:
  explicit SoftTopKPolicy(TopKSchedule schedule);

  Tensor select_for_generator(const Tensor& fake_scores) const override { return fake_scores; }
  Tensor generator_weights(const Tensor& selected_scores) const override;
  Tensor select_for_critic(const Tensor& fake_scores) const override { return fake_scores; }
  void on_generator_step() override { schedule_.on_generator_step(); }
  int64_t current_k(int64_t) const override { return schedule_.k(); }
  std::string describe() const override;
  nlohmann::json state() const override { return schedule_.state(); }
  void load_state(const nlohmann::json& state) override { schedule_.load_state(state); }

 private:
  TopKSchedule schedule_;
};

}  // namespace gantry::train
