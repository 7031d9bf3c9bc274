#pragma once
// A training run's folder: config.json, metrics.json, log.jsonl, checkpoints and pictures. Creating
// one checks up front that it is writable, so a bad --out fails before any training starts.
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gantry::train {

class RunFolder {
 public:
  // Creates the folder (and parents) and probes that a file can be written there; throws
  // gantry::Error naming the path and the reason otherwise.
  explicit RunFolder(std::string root);
  const std::string& root() const { return root_; }
  std::string file(const std::string& name) const;
  bool exists(const std::string& name) const;
  // Pretty-printed, written atomically.
  void write_json(const std::string& name, const nlohmann::json& value) const;
  nlohmann::json read_json(const std::string& name) const;
  // Removes the temporary files that interrupted atomic writes left here (NAME.tmp.PID, see
  // io::atomic_temporary_path) whose writer process is gone, and returns their names. A live writer's
  // file is kept. Call it while holding the folder's lock, so no run of this folder is writing.
  std::vector<std::string> remove_stale_temporaries() const;

 private:
  std::string root_;
};

// An append-only JSON-lines log, flushed after every record so a crash loses at most one line.
class JsonLinesLog {
 public:
  // Starts a fresh log (truncating any old one).
  explicit JsonLinesLog(const std::string& path);
  // Continues a log after a resume: keeps only the records whose "step" is <= last_step, so the
  // resumed run's records follow without duplicates.
  JsonLinesLog(const std::string& path, int64_t last_step);
  void write(const nlohmann::json& record);
  // The records kept from before a resume (empty for a fresh log).
  const std::vector<nlohmann::json>& kept_records() const { return kept_; }

 private:
  std::string path_;
  std::vector<nlohmann::json> kept_;
  std::ofstream out_;
};

}  // namespace gantry::train
