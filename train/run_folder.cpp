#include "train/run_folder.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <sstream>
#include <system_error>
#include <vector>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/json_integer.h"

namespace gantry::train {

namespace fs = std::filesystem;

RunFolder::RunFolder(std::string root) : root_(std::move(root)) {
  GANTRY_CHECK(!root_.empty(), "run folder: the output folder path is empty");
  std::error_code ec;
  fs::create_directories(root_, ec);
  GANTRY_CHECK(!ec && fs::is_directory(root_), "run folder: cannot create '", root_, "': ",
               ec ? ec.message() : std::string("a file with that name exists"));
  const std::string probe = file(".write_probe");
  {
    std::ofstream out(probe);
    out << "probe";
    GANTRY_CHECK(out.good(), "run folder: '", root_, "' is not writable");
  }
  fs::remove(probe, ec);
}

std::string RunFolder::file(const std::string& name) const { return (fs::path(root_) / name).string(); }

bool RunFolder::exists(const std::string& name) const { return fs::exists(file(name)); }

void RunFolder::write_json(const std::string& name, const nlohmann::json& value) const {
  io::write_file_atomic(file(name), value.dump(2) + "\n");
}

nlohmann::json RunFolder::read_json(const std::string& name) const {
  return parse_json_text(io::read_file(file(name)), file(name));
}

nlohmann::json parse_json_text(const std::string& text, const std::string& path) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    GANTRY_FAIL("run folder: '", path, "' is not valid JSON: ", e.what());
  }
}

namespace {

bool process_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

}  // namespace

std::vector<std::string> RunFolder::remove_stale_temporaries() const {
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    const std::string name = entry.path().filename().string();
    const auto writer = io::atomic_temporary_writer(name);
    if (!writer || !entry.is_regular_file() || *writer == ::getpid() || process_alive(*writer)) continue;
    if (fs::remove(entry.path(), ec)) removed.push_back(name);
  }
  std::sort(removed.begin(), removed.end());
  return removed;
}

KeptLogRecords keep_log_records(const std::string& text, int64_t last_step, const std::string& path) {
  KeptLogRecords kept;
  std::istringstream lines(text);
  int64_t line_number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++line_number;
    if (line.empty()) continue;
    const auto record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (record.is_discarded()) break;  // a torn last line from a crash
    if (record.contains("step") &&
        io::require_json_integer<int64_t>(
            record["step"], "log: '" + path + "' line " + std::to_string(line_number) + ": 'step'") > last_step)
      continue;
    kept.lines.push_back(line);
    kept.records.push_back(record);
  }
  return kept;
}

JsonLinesLog::JsonLinesLog(const std::string& path) : path_(path), out_(path, std::ios::trunc) {
  GANTRY_CHECK(out_.good(), "log: cannot open '", path, "' for writing");
}

JsonLinesLog::JsonLinesLog(const std::string& path, int64_t last_step) : path_(path) {
  std::string kept;
  if (fs::exists(path)) {
    KeptLogRecords records = keep_log_records(io::read_file(path), last_step, path);
    for (const auto& line : records.lines) kept += line + '\n';
    kept_ = std::move(records.records);
  }
  // Replaced atomically: a process killed right here must not lose the records it keeps.
  io::write_file_atomic(path, kept);
  out_.open(path, std::ios::app);
  GANTRY_CHECK(out_.good(), "log: cannot open '", path, "' for writing");
}

void JsonLinesLog::write(const nlohmann::json& record) {
  out_ << record.dump() << '\n';
  out_.flush();
  GANTRY_CHECK(out_.good(), "log: writing '", path_, "' failed");
}

}  // namespace gantry::train
