#include "train/checkpoint.h"

#include <charconv>
#include <nlohmann/json.hpp>
#include <system_error>

#include "engine/io/json_integer.h"
#include "engine/io/safetensors.h"

namespace gantry::train {

namespace {

constexpr const char* kFormat = "gantry-gan-run-state-v1";
const char* const kGenerator = "generator.";
const char* const kCritic = "critic.";
const char* const kGeneratorOpt = "generator_optimizer.";
const char* const kCriticOpt = "critic_optimizer.";

void check_complete(const RunState& s) {
  GANTRY_CHECK(s.generator && s.critic && s.generator_optimizer && s.critic_optimizer && s.rng && s.policy,
               "checkpoint: the run state is incomplete (a model, optimiser, RNG or policy is missing)");
}

void append_prefixed(io::NamedTensors& out, const std::string& prefix,
                     const std::vector<std::pair<std::string, Tensor>>& tensors) {
  for (const auto& [name, t] : tensors) out.emplace_back(prefix + name, t);
}

std::vector<std::pair<std::string, Tensor>> with_prefix(const io::NamedTensors& all, const std::string& prefix) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [name, t] : all)
    if (name.compare(0, prefix.size(), prefix) == 0) out.emplace_back(name.substr(prefix.size()), t);
  return out;
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

void save_checkpoint(const std::string& path, const RunState& s, int64_t step) {
  check_complete(s);
  io::NamedTensors tensors;
  append_prefixed(tensors, kGenerator, s.generator->state_dict());
  append_prefixed(tensors, kCritic, s.critic->state_dict());
  append_prefixed(tensors, kGeneratorOpt, s.generator_optimizer->state_dict());
  append_prefixed(tensors, kCriticOpt, s.critic_optimizer->state_dict());
  const nlohmann::json run{{"format", kFormat},
                           {"step", step},
                           // uint64 as strings: JSON readers elsewhere may not keep 64-bit integers exact
                           {"rng_seed", std::to_string(s.rng->seed())},
                           {"rng_offset", std::to_string(s.rng->offset())},
                           {"policy", s.policy->state()}};
  io::save_safetensors(path, tensors, {{"gantry_run_state", run.dump()}});
}

int64_t load_checkpoint(const std::string& path, const RunState& s) {
  check_complete(s);
  return restore_checkpoint(io::load_safetensors(path), path, s);
}

int64_t restore_checkpoint(const io::TensorFile& file, const std::string& path, const RunState& s) {
  check_complete(s);
  const auto it = file.metadata.find("gantry_run_state");
  GANTRY_CHECK(it != file.metadata.end(), "load_checkpoint: '", path,
               "' has no gantry_run_state metadata (not a GAN run checkpoint)");
  nlohmann::json run;
  try {
    run = nlohmann::json::parse(it->second);
    GANTRY_CHECK(run.at("format").get<std::string>() == kFormat, "load_checkpoint: '", path,
                 "' has format ", run.at("format").dump(), ", expected ", kFormat);
    s.generator->load_state_dict(with_prefix(file.tensors, kGenerator));
    s.critic->load_state_dict(with_prefix(file.tensors, kCritic));
    s.generator_optimizer->load_state_dict(with_prefix(file.tensors, kGeneratorOpt));
    s.critic_optimizer->load_state_dict(with_prefix(file.tensors, kCriticOpt));
    s.rng->set_state(rng_state_field(run, "rng_seed", path), rng_state_field(run, "rng_offset", path));
    s.policy->load_state(run.at("policy"));
    return io::require_json_integer<int64_t>(run.at("step"), "load_checkpoint: '" + path + "': 'step'");
  } catch (const nlohmann::json::exception& e) {
    GANTRY_FAIL("load_checkpoint: '", path, "' has malformed run-state metadata: ", e.what());
  }
}

}  // namespace gantry::train
