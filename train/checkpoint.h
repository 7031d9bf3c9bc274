#pragma once
// The run state of a GAN training as one safetensors file: generator and critic weights, both
// optimiser states, and in the metadata the RNG state, the update policy's state (top-k schedule),
// the step count, the run's own configuration with its identity hash, and a CRC-32 of every tensor.
// Saved atomically; restoring it continues the run bit-identically. Reading verifies the checksums
// and refuses non-finite values, so a corrupted or diverged checkpoint is never trained on.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/io/safetensors.h"
#include "engine/nn/module.h"
#include "engine/optim/optimizer.h"
#include "engine/random/generator.h"
#include "train/update_policy.h"

namespace gantry::train {

// A further piece of run state a kind of run checkpoints beside the networks and optimisers (the EMA
// generator, the data loader's position): named tensors saved under "<name>." and a JSON state.
class CheckpointPart {
 public:
  virtual ~CheckpointPart() = default;
  virtual std::string name() const = 0;  // unique within a run, without '.'
  virtual std::vector<std::pair<std::string, Tensor>> tensors() const { return {}; }
  virtual nlohmann::json state() const { return nullptr; }
  // Restores from what tensors() and state() gave; throws gantry::Error when it does not fit.
  virtual void load(const std::vector<std::pair<std::string, Tensor>>& tensors, const nlohmann::json& state) = 0;
};

// A part a reader of the checkpoint does not need (sampling needs no data-loader position).
class SkippedCheckpointPart final : public CheckpointPart {
 public:
  explicit SkippedCheckpointPart(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  void load(const std::vector<std::pair<std::string, Tensor>>&, const nlohmann::json&) override {}

 private:
  std::string name_;
};

// Non-owning views of everything a checkpoint saves and restores.
struct RunState {
  nn::Module* generator = nullptr;
  nn::Module* critic = nullptr;
  optim::Optimizer* generator_optimizer = nullptr;
  optim::Optimizer* critic_optimizer = nullptr;
  Generator* rng = nullptr;
  GeneratorUpdatePolicy* policy = nullptr;
  std::vector<CheckpointPart*> parts;  // optional; a checkpoint must hold exactly the parts restored into
};

// What identifies the run a checkpoint belongs to, embedded so that the checkpoint alone tells which
// run it is: the run's full configuration and a hash of the settings that define the run.
struct RunIdentity {
  nlohmann::json config;
  std::string hash;
};

// A checkpoint read back and verified, before anything is restored from it.
struct CheckpointFile {
  std::string path;
  io::TensorFile contents;
  nlohmann::json run_state;  // the gantry_run_state metadata
  int64_t step = 0;
  std::optional<RunIdentity> run;  // absent in checkpoints written before runs were embedded
  bool has_checksums = false;      // false in checkpoints written before tensors were checksummed
};

// The names of the parts a verified checkpoint holds.
std::vector<std::string> checkpoint_part_names(const CheckpointFile& file);
// The JSON state of part `name`; throws naming the file when the checkpoint has no such part.
const nlohmann::json& checkpoint_part_state(const CheckpointFile& file, const std::string& name);

// Throws gantry::Error (and leaves any existing file at `path` as it was) when a tensor is not finite.
void save_checkpoint(const std::string& path, const RunState& state, int64_t step, const RunIdentity& run);
// Reads and verifies a checkpoint. Throws gantry::Error naming the file (and the tensor, where one is
// at fault) when it is missing, truncated, not a run checkpoint, fails its checksum or holds a NaN or
// infinity.
CheckpointFile read_checkpoint(const std::string& path);
// The same checks on a checkpoint's parsed tensors and metadata; errors name `path` (the file).
CheckpointFile parse_checkpoint(io::TensorFile contents, const std::string& path);
// Restores a verified checkpoint into `state` and returns its step. Throws naming the file when it
// does not match the models.
int64_t restore_checkpoint(const CheckpointFile& file, const RunState& state);
// parse_checkpoint + restore_checkpoint, for contents already read (the parsers' fuzz harness).
int64_t restore_checkpoint(const io::TensorFile& contents, const std::string& path, const RunState& state);
// read_checkpoint + restore_checkpoint.
int64_t load_checkpoint(const std::string& path, const RunState& state);

}  // namespace gantry::train
