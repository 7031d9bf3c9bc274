#include "train/checkpoint.h"

#include <charconv>
#include <cmath>
#include <system_error>

#include "engine/io/digest.h"
#include "engine/io/json_integer.h"

namespace gantry::train {

namespace {

constexpr const char* kFormat = "gantry-gan-run-state-v1";
// Metadata keys. Checkpoints from before the run identity and the checksums carry only the first.
constexpr const char* kRunStateKey = "gantry_run_state";
constexpr const char* kRunConfigKey = "gantry_run_config";
constexpr const char* kRunIdentityKey = "gantry_run_identity";
constexpr const char* kChecksumsKey = "gantry_tensor_crc32";
const char* const kGenerator = "generator.";
const char* const kCritic = "critic.";
const char* const kGeneratorOpt = "generator_optimizer.";
const char* const kCriticOpt = "critic_optimizer.";

void check_complete(const RunState& s) {
  GANTRY_CHECK(s.generator && s.critic && s.generator_optimizer && s.critic_optimizer && s.rng && s.policy,
               "checkpoint: the run state is incomplete (a model, optimiser, RNG or policy is missing)");
  for (const CheckpointPart* part : s.parts) GANTRY_CHECK(part, "checkpoint: a run-state part is missing");
}

std::string part_prefix(const CheckpointPart& part) { return "part." + part.name() + "."; }

void append_prefixed(io::NamedTensors& out, const std::string& prefix,
                     const std::vector<std::pair<std::string, Tensor>>& tensors) {
  for (const auto& [name, t] : tensors) out.emplace_back(prefix + name, t.detach().to(kCPU).contiguous());
}

std::vector<std::pair<std::string, Tensor>> with_prefix(const io::NamedTensors& all, const std::string& prefix) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [name, t] : all)
    if (name.compare(0, prefix.size(), prefix) == 0) out.emplace_back(name.substr(prefix.size()), t);
  return out;
}

template <typename T>
bool all_finite(const T* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(p[i])) return false;
  return true;
}

// For a contiguous CPU tensor: false when a floating-point element is NaN or infinite.
bool is_finite(const Tensor& t) {
  if (t.dtype() == DType::f32) return all_finite(t.data_ptr<float>(), t.numel());
  if (t.dtype() == DType::f64) return all_finite(t.data_ptr<double>(), t.numel());
  return true;
}

std::string checksum(const Tensor& t) { return io::crc32_hex(t.raw_data(), t.nbytes()); }

void verify_checksums(const std::string& path, const io::TensorFile& file, const std::string& text) {
  nlohmann::json sums;
  try {
    sums = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    GANTRY_FAIL("load_checkpoint: '", path, "' has malformed checksum metadata: ", e.what());
  }
  GANTRY_CHECK(sums.is_object() && sums.size() == file.tensors.size(), "load_checkpoint: '", path, "' lists ",
               sums.size(), " tensor checksums for ", file.tensors.size(), " tensors (the file was altered)");
  for (const auto& [name, t] : file.tensors) {
    GANTRY_CHECK(sums.contains(name) && sums[name].is_string(), "load_checkpoint: '", path, "': tensor '", name,
                 "' has no checksum (the file was altered)");
    const std::string actual = checksum(t);
    GANTRY_CHECK(actual == sums[name].get<std::string>(), "load_checkpoint: '", path, "': tensor '", name,
                 "' fails its checksum (CRC-32 ", actual, ", recorded ", sums[name].get<std::string>(),
                 "): the file is corrupt");
  }
}

// A uint64 saved as a decimal string: digits only, in range (std::stoull would take "-1" or " 1").
uint64_t rng_state_field(const nlohmann::json& run, const char* key, const std::string& path) {
  const std::string text = run.at(key).get<std::string>();
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  GANTRY_CHECK(!text.empty() && text.find_first_not_of("0123456789") == std::string::npos && ec == std::errc() &&
                   end == text.data() + text.size(),
               "load_checkpoint: '", path, "' has a malformed RNG state: ", key, " '", text,
               "' is not a decimal number in [0, 2^64)");
  return value;
}

}  // namespace

void save_checkpoint(const std::string& path, const RunState& s, int64_t step, const RunIdentity& run) {
  check_complete(s);
  io::NamedTensors tensors;
  append_prefixed(tensors, kGenerator, s.generator->state_dict());
  append_prefixed(tensors, kCritic, s.critic->state_dict());
  append_prefixed(tensors, kGeneratorOpt, s.generator_optimizer->state_dict());
  append_prefixed(tensors, kCriticOpt, s.critic_optimizer->state_dict());
  nlohmann::json parts = nlohmann::json::object();
  for (const CheckpointPart* part : s.parts) {
    append_prefixed(tensors, part_prefix(*part), part->tensors());
    parts[part->name()] = part->state();
  }
  nlohmann::json sums = nlohmann::json::object();
  for (const auto& [name, t] : tensors) {
    // A diverged state must not replace the last good checkpoint.
    GANTRY_CHECK(is_finite(t), "save_checkpoint: tensor '", name, "' holds NaN or infinite values at step ", step,
                 "; '", path, "' was not written");
    sums[name] = checksum(t);
  }
  nlohmann::json state{{"format", kFormat},
                             {"step", step},
                             // uint64 as strings: JSON readers elsewhere may not keep 64-bit integers exact
                             {"rng_seed", std::to_string(s.rng->seed())},
                             {"rng_offset", std::to_string(s.rng->offset())},
                             {"policy", s.policy->state()}};
  if (!s.parts.empty()) state["parts"] = parts;
  io::save_safetensors(path, tensors,
                       {{kRunStateKey, state.dump()},
                        {kRunConfigKey, run.config.dump()},
                        {kRunIdentityKey, run.hash},
                        {kChecksumsKey, sums.dump()}});
}

CheckpointFile read_checkpoint(const std::string& path) { return parse_checkpoint(io::load_safetensors(path), path); }

CheckpointFile parse_checkpoint(io::TensorFile contents, const std::string& path) {
  CheckpointFile out;
  out.path = path;
  out.contents = std::move(contents);
  const io::Metadata& meta = out.contents.metadata;
  const auto state = meta.find(kRunStateKey);
  GANTRY_CHECK(state != meta.end(), "load_checkpoint: '", path, "' has no ", kRunStateKey,
               " metadata (not a GAN run checkpoint)");
  if (const auto sums = meta.find(kChecksumsKey); sums != meta.end()) {
    verify_checksums(path, out.contents, sums->second);
    out.has_checksums = true;
  }
  for (const auto& [name, t] : out.contents.tensors)
    GANTRY_CHECK(is_finite(t), "load_checkpoint: '", path, "': tensor '", name,
                 "' holds NaN or infinite values; refusing to train or evaluate on it");
  try {
    out.run_state = nlohmann::json::parse(state->second);
    GANTRY_CHECK(out.run_state.at("format").get<std::string>() == kFormat, "load_checkpoint: '", path, "' has format ",
                 out.run_state.at("format").dump(), ", expected ", kFormat);
    out.step = io::require_json_integer<int64_t>(out.run_state.at("step"), "load_checkpoint: '" + path + "': 'step'");
    const auto config = meta.find(kRunConfigKey), identity = meta.find(kRunIdentityKey);
    GANTRY_CHECK((config == meta.end()) == (identity == meta.end()), "load_checkpoint: '", path, "' has only one of ",
                 kRunConfigKey, " and ", kRunIdentityKey, " (the file was altered)");
    if (config != meta.end()) out.run = RunIdentity{nlohmann::json::parse(config->second), identity->second};
  } catch (const nlohmann::json::exception& e) {
    GANTRY_FAIL("load_checkpoint: '", path, "' has malformed run metadata: ", e.what());
  }
  return out;
}

int64_t restore_checkpoint(const CheckpointFile& file, const RunState& s) {
  check_complete(s);
  const io::NamedTensors& tensors = file.contents.tensors;
  try {
    s.generator->load_state_dict(with_prefix(tensors, kGenerator));
    s.critic->load_state_dict(with_prefix(tensors, kCritic));
    s.generator_optimizer->load_state_dict(with_prefix(tensors, kGeneratorOpt));
    s.critic_optimizer->load_state_dict(with_prefix(tensors, kCriticOpt));
    s.rng->set_state(rng_state_field(file.run_state, "rng_seed", file.path),
                     rng_state_field(file.run_state, "rng_offset", file.path));
    s.policy->load_state(file.run_state.at("policy"));
    const nlohmann::json no_parts = nlohmann::json::object();
    const nlohmann::json& parts = file.run_state.contains("parts") ? file.run_state.at("parts") : no_parts;
    GANTRY_CHECK(parts.is_object() && parts.size() == s.parts.size(), "the checkpoint holds ", parts.size(),
                 " run-state part(s) ", parts.dump(), " but this run has ", s.parts.size(),
                 " (it was written by another kind of run)");
    for (CheckpointPart* part : s.parts) {
      GANTRY_CHECK(parts.contains(part->name()), "the checkpoint has no '", part->name(),
                   "' state (it was written by another kind of run)");
      part->load(with_prefix(tensors, part_prefix(*part)), parts.at(part->name()));
    }
    return file.step;
  } catch (const nlohmann::json::exception& e) {
    GANTRY_FAIL("load_checkpoint: '", file.path, "' has malformed run-state metadata: ", e.what());
  } catch (const Error& e) {  // the tensors do not fit the models or optimisers
    GANTRY_FAIL("load_checkpoint: '", file.path, "': ", e.what());
  }
}

std::vector<std::string> checkpoint_part_names(const CheckpointFile& file) {
  std::vector<std::string> names;
  if (file.run_state.contains("parts") && file.run_state.at("parts").is_object())
    for (const auto& [name, unused] : file.run_state.at("parts").items()) names.push_back(name);
  return names;
}

const nlohmann::json& checkpoint_part_state(const CheckpointFile& file, const std::string& name) {
  const nlohmann::json& state = file.run_state;
  GANTRY_CHECK(state.contains("parts") && state.at("parts").is_object() && state.at("parts").contains(name),
               "load_checkpoint: '", file.path, "' has no '", name, "' state (it was written by another kind of run)");
  return state.at("parts").at(name);
}

int64_t restore_checkpoint(const io::TensorFile& contents, const std::string& path, const RunState& state) {
  return restore_checkpoint(parse_checkpoint(contents, path), state);
}

int64_t load_checkpoint(const std::string& path, const RunState& state) {
  return restore_checkpoint(read_checkpoint(path), state);
}

}  // namespace gantry::train
