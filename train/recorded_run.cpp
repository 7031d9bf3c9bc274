#include "train/recorded_run.h"

#include <filesystem>
#include <optional>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"

namespace gantry::train {

namespace {

namespace fs = std::filesystem;

// The checkpoint file and the configuration file beside it for a folder or file path.
std::pair<std::string, std::string> resolve_checkpoint(const std::string& path, const std::string& what,
                                                       const RunKind& kind) {
  GANTRY_CHECK(fs::exists(path), what, ": '", path, "' does not exist");
  const fs::path file = fs::is_directory(path) ? fs::path(path) / kind.checkpoint_file() : fs::path(path);
  GANTRY_CHECK(fs::is_regular_file(file), what, ": no ", kind.checkpoint_file(), " in '", path, "'");
  return {file.string(), (file.parent_path() / kind.config_file()).string()};
}

RecordedConfig read_config(const std::string& config_path, const std::string& what, const RunKind& kind) {
  try {
    return kind.parse(nlohmann::json::parse(io::read_file(config_path)));
  } catch (const nlohmann::json::exception& e) {
    GANTRY_FAIL(what, ": '", config_path, "' is not a valid run configuration: ", e.what());
  } catch (const Error& e) {
    GANTRY_FAIL(what, ": '", config_path, "' is not a valid run configuration: ", e.what());
  }
}

// The configuration a checkpoint carries, checked against its identity hash.
RecordedConfig embedded_config(const CheckpointFile& checkpoint, const std::string& what, const RunKind& kind) {
  RecordedConfig c;
  try {
    c = kind.parse(checkpoint.run->config);
  } catch (const Error& e) {
    GANTRY_FAIL(what, ": '", checkpoint.path, "' has a malformed embedded run configuration: ", e.what());
  }
  GANTRY_CHECK(c.hash == checkpoint.run->hash, what, ": '", checkpoint.path,
               "': its embedded run configuration does not match its identity hash ", checkpoint.run->hash,
               " (the metadata was altered)");
  return c;
}

}  // namespace

RecordedRun read_recorded_run(const std::string& path, const std::string& what, const RunKind& kind) {
  const auto [checkpoint_path, config_path] = resolve_checkpoint(path, what, kind);
  const std::string config_name = kind.config_file();
  RecordedRun run;
  std::optional<RecordedConfig> from_file;
  if (fs::exists(config_path)) from_file = read_config(config_path, what, kind);
  run.checkpoint = read_checkpoint(checkpoint_path);
  if (run.checkpoint.run) {
    const RecordedConfig embedded = embedded_config(run.checkpoint, what, kind);
    if (from_file) {
      run.config = *from_file;
      run.config_source = config_path;
      if (const auto d = identity_difference(run.config.identity, embedded.identity, kind))
        GANTRY_FAIL(what, ": '", config_path, "' says ", d->key, " = ", d->first, " but the checkpoint '",
                    checkpoint_path, "' was trained with ", d->key, " = ", d->second, "; ", config_name,
                    " was changed after training (restore it, or delete it to use the checkpoint's own "
                    "configuration)");
    } else {
      run.config = embedded;
      run.config_source = checkpoint_path + " (embedded configuration)";
      run.notes.push_back("no " + config_name + " beside '" + checkpoint_path +
                          "'; using the configuration embedded in the checkpoint");
    }
  } else {
    GANTRY_CHECK(from_file.has_value(), what, ": '", checkpoint_path,
                 "' was written by an older gantry without an embedded run configuration, and there is no ",
                 config_name, " beside it, so nothing says which run it belongs to");
    run.config = *from_file;
    run.config_source = config_path;
    run.notes.push_back("'" + checkpoint_path + "' predates embedded run configurations" +
                        (run.checkpoint.has_checksums ? "" : " and tensor checksums") +
                        "; its configuration is read from '" + config_path + "'");
  }
  GANTRY_CHECK(run.config.steps >= run.checkpoint.step, what, ": '", run.config_source, "' describes a run of ",
               run.config.steps, " steps but the checkpoint '", checkpoint_path, "' is at step ", run.checkpoint.step);
  return run;
}

}  // namespace gantry::train
