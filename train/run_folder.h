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

// `text` as JSON; throws gantry::Error naming `path` (the file it was read from) when it is not.
nlohmann::json parse_json_text(const std::string& text, const std::string& path);

// The part of a log's text that a run resumed at `last_step` keeps: the records whose "step" is <=
// last_step (records without one too), up to a torn last line. Throws gantry::Error naming `path`
// for a record whose "step" is not an integer.
struct KeptLogRecords {
  std::vector<std::string> lines;
  std::vector<nlohmann::json> records;
};
KeptLogRecords keep_log_records(const std::string& text, int64_t last_step, const std::string& path);

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
