#include "eval/update_direction.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/ops.h"
#include "train/gan_trainer.h"

namespace gantry::eval {

namespace {

std::vector<double> positions_f64(const Tensor& points, const char* what) {
  GANTRY_CHECK(points.defined() && points.dim() == 2 && points.size(1) == 2,
               "update direction: expected ", what, " of shape [N, 2], got ",
               points.defined() ? shape_str(points.shape()) : std::string("an undefined tensor"));
  GANTRY_CHECK(is_floating(points.dtype()), "update direction: expected float ", what, ", got ",
               dtype_name(points.dtype()));
  return to_vector<double>(points.to(kCPU).to(DType::f64).contiguous());
}

int64_t nearest_mode(double x, double y, const data::MixtureOfGaussians& mixture) {
  int64_t nearest = 0;
  double best = std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < mixture.num_modes(); ++j) {
    const double d = std::hypot(x - mixture.centre_x(j), y - mixture.centre_y(j));
    if (d < best) best = d, nearest = j;
  }
  return nearest;
}

void check_latents(const Tensor& latents, const char* what) {
  GANTRY_CHECK(latents.defined() && latents.dim() == 2 && latents.size(0) >= 1,
               "analyse_update_direction: expected ", what, " of shape [N, latent_dim] with N >= 1, got ",
               latents.defined() ? shape_str(latents.shape()) : std::string("an undefined tensor"));
}

void check_inputs(const UpdateDirectionInputs& in) {
  GANTRY_CHECK(in.generator && in.critic && in.generator_optimizer && in.mixture,
               "analyse_update_direction: the generator, critic, generator optimiser and mixture are required");
  GANTRY_CHECK(in.make_generator && in.make_generator_optimizer,
               "analyse_update_direction: factories for the generator copy and its optimiser are required");
  check_latents(in.probe_latents, "probe latents");
  check_latents(in.update_latents, "update latents");
  GANTRY_CHECK(in.probe_latents.size(1) == in.update_latents.size(1),
               "analyse_update_direction: probe latents ", shape_str(in.probe_latents.shape()),
               " and update latents ", shape_str(in.update_latents.shape()), " differ in latent_dim");
}

// A generator and optimiser with exactly the inputs' weights and optimiser state, sharing no storage
// with them (module and optimiser load_state_dict copy values), so stepping them leaves the inputs intact.
struct GeneratorCopy {
  std::shared_ptr<nn::Module> generator;
  std::unique_ptr<optim::Optimizer> optimizer;
};

GeneratorCopy copy_generator(const UpdateDirectionInputs& in) {
  GeneratorCopy copy;
  copy.generator = in.make_generator();
  GANTRY_CHECK(copy.generator != nullptr, "analyse_update_direction: make_generator returned null");
  copy.generator->load_state_dict(in.generator->state_dict());
  copy.optimizer = in.make_generator_optimizer(copy.generator->parameters());
  GANTRY_CHECK(copy.optimizer != nullptr, "analyse_update_direction: make_generator_optimizer returned null");
  copy.optimizer->load_state_dict(in.generator_optimizer->state_dict());
  return copy;
}

}  // namespace

std::vector<SampleMovement> measure_movements(const Tensor& before, const Tensor& after,
                                              const data::MixtureOfGaussians& mixture) {
  const std::vector<double> b = positions_f64(before, "positions before");
  const std::vector<double> a = positions_f64(after, "positions after");
  GANTRY_CHECK(before.size(0) == after.size(0), "measure_movements: ", before.size(0), " positions before but ",
               after.size(0), " after");
  std::vector<SampleMovement> out(static_cast<size_t>(before.size(0)));
  for (size_t i = 0; i < out.size(); ++i) {
    const double bx = b[2 * i], by = b[2 * i + 1], ax = a[2 * i], ay = a[2 * i + 1];
    SampleMovement& m = out[i];
    m.nearest_mode = nearest_mode(bx, by, mixture);
    const double mx = mixture.centre_x(m.nearest_mode), my = mixture.centre_y(m.nearest_mode);
    m.distance_before = std::hypot(mx - bx, my - by);
    m.distance_after = std::hypot(mx - ax, my - ay);
    const double moved = std::hypot(ax - bx, ay - by);
    if (moved > 0 && m.distance_before > 0)
      m.cosine = ((ax - bx) * (mx - bx) + (ay - by) * (my - by)) / (moved * m.distance_before);
  }
  return out;
}

std::vector<DirectionBin> bin_movements(const std::vector<SampleMovement>& movements, double mode_std,
                                        const std::vector<double>& edges_std) {
  GANTRY_CHECK(mode_std > 0, "bin_movements: mode_std must be > 0, got ", mode_std);
  for (size_t i = 0; i < edges_std.size(); ++i)
    GANTRY_CHECK(edges_std[i] > 0 && (i == 0 || edges_std[i] > edges_std[i - 1]),
                 "bin_movements: bin edges must be positive and strictly increasing (edge ", i, " is ",
                 edges_std[i], ")");
  std::vector<DirectionBin> bins(edges_std.size() + 1);
  for (size_t i = 0; i < bins.size(); ++i) {
    bins[i].lower_std = i == 0 ? 0.0 : edges_std[i - 1];
    if (i < edges_std.size()) bins[i].upper_std = edges_std[i];
  }
  for (const SampleMovement& m : movements) {
    const double in_std = m.distance_before / mode_std;
    size_t i = 0;
    while (i < edges_std.size() && in_std > edges_std[i]) ++i;
    ++bins[i].count;
    bins[i].mean_cosine += m.cosine;
    bins[i].mean_distance_change += m.distance_after - m.distance_before;
  }
  for (DirectionBin& bin : bins) {
    if (bin.count == 0) continue;
    bin.mean_cosine /= static_cast<double>(bin.count);
    bin.mean_distance_change /= static_cast<double>(bin.count);
  }
  return bins;
}

const char* kept_samples_name(KeptSamples kept) { return kept == KeptSamples::top_k ? "top-k" : "bottom-k"; }

int64_t kept_count(int64_t batch_size, double fraction) {
  GANTRY_CHECK(batch_size >= 1, "kept_count: batch size must be >= 1, got ", batch_size);
  GANTRY_CHECK(fraction > 0 && fraction <= 1, "kept_count: the kept fraction must be in (0, 1], got ", fraction);
  return std::max<int64_t>(1, std::llround(fraction * static_cast<double>(batch_size)));
}

nlohmann::json UpdateDirectionResult::to_json() const {
  nlohmann::json bins_json = nlohmann::json::array();
  for (const DirectionBin& b : bins)
    bins_json.push_back({{"lower_std", b.lower_std},
                         {"upper_std", std::isinf(b.upper_std) ? nlohmann::json(nullptr) : nlohmann::json(b.upper_std)},
                         {"count", b.count},
                         {"mean_cosine", b.mean_cosine},
                         {"mean_distance_change", b.mean_distance_change}});
  return nlohmann::json{{"kept", kept_samples_name(kept)},
                        {"k", k},
                        {"batch_size", batch_size},
                        {"generator_loss", generator_loss},
                        {"num_probes", static_cast<int64_t>(movements.size())},
                        {"mean_cosine", mean_cosine},
                        {"mean_distance_change", mean_distance_change},
                        {"bins", bins_json}};
}

UpdateDirectionResult analyse_update_direction(const UpdateDirectionInputs& in, KeptSamples kept, double fraction,
                                               const std::vector<double>& edges_std) {
  check_inputs(in);
  UpdateDirectionResult r;
  r.kept = kept;
  r.batch_size = in.update_latents.size(0);
  r.k = kept_count(r.batch_size, fraction);

  Tensor before;
  {
    NoGradGuard no_grad;
    before = (*in.generator)(in.probe_latents);
  }

  GeneratorCopy copy = copy_generator(in);
  const std::vector<Tensor> params = copy.generator->parameters();
  const Tensor scores = (*in.critic)(copy.generator->forward(in.update_latents));
  GANTRY_CHECK(scores.dim() == 1 || (scores.dim() == 2 && scores.size(1) == 1),
               "analyse_update_direction: expected critic scores of shape [B] or [B, 1], got ",
               shape_str(scores.shape()));
  // Same rule as the training policies (train::select_k_scores): ties go to the lower index.
  const auto [kept_scores, indices] = topk(scores.reshape({r.batch_size}), r.k, 0, kept == KeptSamples::top_k);
  const Tensor loss = train::generator_loss(in.loss, kept_scores);
  r.generator_loss = loss.item<double>();
  GANTRY_CHECK(std::isfinite(r.generator_loss), "analyse_update_direction: the generator loss is ",
               r.generator_loss);
  // Gradients w.r.t. the copy's parameters only: the critic's parameters are never touched.
  train::assign_gradients(params, autograd::grad({loss}, params));
  copy.optimizer->step();
  r.selected_indices = to_vector<int64_t>(indices.to(kCPU));

  Tensor after;
  {
    NoGradGuard no_grad;
    after = copy.generator->forward(in.probe_latents);
  }
  r.probes_before = before;
  r.probes_after = after;
  r.movements = measure_movements(before, after, *in.mixture);
  r.bins = bin_movements(r.movements, in.mixture->std(), edges_std);
  for (const SampleMovement& m : r.movements) {
    r.mean_cosine += m.cosine;
    r.mean_distance_change += m.distance_after - m.distance_before;
  }
  r.mean_cosine /= static_cast<double>(r.movements.size());
  r.mean_distance_change /= static_cast<double>(r.movements.size());
  return r;
}

}  // namespace gantry::eval
