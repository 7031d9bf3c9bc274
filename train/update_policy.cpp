#include "train/update_policy.h"

#include "engine/ops/ops.h"

namespace gantry::train {

const char* batch_selection_name(BatchSelection s) {
  switch (s) {
    case BatchSelection::full: return "full";
    case BatchSelection::top_k: return "top-k";
    case BatchSelection::bottom_k: return "bottom-k";
  }
  return "?";
}

BatchSelection parse_batch_selection(const std::string& s) {
  if (s == "full") return BatchSelection::full;
  if (s == "top-k") return BatchSelection::top_k;
  if (s == "bottom-k") return BatchSelection::bottom_k;
  GANTRY_FAIL("config: unknown batch selection '", s, "' (expected full, top-k or bottom-k)");
}


SelectionTarget parse_selection_target(const std::string& text) {
  if (text == "g" || text == "G") return SelectionTarget::generator;
  if (text == "d" || text == "D") return SelectionTarget::critic;
  if (text == "gd" || text == "GD" || text == "G&D" || text == "g&d") return SelectionTarget::both;
  GANTRY_FAIL("top-k: unknown target '", text, "' (expected g, d or gd)");
}

const char* selection_target_name(SelectionTarget target) {
  switch (target) {
    case SelectionTarget::generator: return "G";
    case SelectionTarget::critic: return "D";
    case SelectionTarget::both: return "G&D";
  }
  return "?";
}

Tensor select_k_scores(const Tensor& scores, int64_t k, bool keep_highest) {
  GANTRY_CHECK(scores.defined() && (scores.dim() == 1 || (scores.dim() == 2 && scores.size(1) == 1)),
               "select_k_scores: expected scores of shape [B] or [B, 1], got ",
               scores.defined() ? shape_str(scores.shape()) : std::string("an undefined tensor"));
  const int64_t batch = scores.size(0);
  GANTRY_CHECK(k >= 1 && k <= batch, "select_k_scores: k must be in [1, B = ", batch, "], got ", k);
  const Tensor flat = scores.dim() == 1 ? scores : scores.reshape({batch});
  if (k == batch) return flat;  // keeping everything: skip the sort
  return topk(flat, k, 0, keep_highest).first;
}

TopKPolicy::TopKPolicy(TopKSchedule schedule, SelectionTarget target, bool keep_highest)
    : schedule_(std::move(schedule)), target_(target), keep_highest_(keep_highest) {}

Tensor TopKPolicy::select(const Tensor& fake_scores, bool applies) const {
  if (!applies) return fake_scores;
  GANTRY_CHECK(fake_scores.size(0) == schedule_.batch_size(), "TopKPolicy: the schedule was made for batch ",
               schedule_.batch_size(), " but the fake scores have shape ", shape_str(fake_scores.shape()));
  return select_k_scores(fake_scores, schedule_.k(), keep_highest_);
}

Tensor TopKPolicy::select_for_generator(const Tensor& fake_scores) const {
  return select(fake_scores, target_ != SelectionTarget::critic);
}

Tensor TopKPolicy::select_for_critic(const Tensor& fake_scores) const {
  return select(fake_scores, target_ != SelectionTarget::generator);
}

std::string TopKPolicy::describe() const {
  return std::string(keep_highest_ ? "top-k" : "bottom-k") + " on " + selection_target_name(target_) +
         " (k " + std::to_string(schedule_.k()) + ")";
}

}  // namespace gantry::train
