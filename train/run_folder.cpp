#include "train/run_folder.h"

#include <filesystem>
#include <sstream>
#include <system_error>
#include <vector>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"

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
  const std::string text = io::read_file(file(name));
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    GANTRY_FAIL("run folder: '", file(name), "' is not valid JSON: ", e.what());
  }
}

JsonLinesLog::JsonLinesLog(const std::string& path) : path_(path), out_(path, std::ios::trunc) {
  GANTRY_CHECK(out_.good(), "log: cannot open '", path, "' for writing");
}

JsonLinesLog::JsonLinesLog(const std::string& path, int64_t last_step) : path_(path) {
  std::string kept;
  if (fs::exists(path)) {
    std::istringstream lines(io::read_file(path));
    for (std::string line; std::getline(lines, line);) {
      if (line.empty()) continue;
      const auto record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (record.is_discarded()) break;  // a torn last line from a crash
      if (record.contains("step") && record["step"].get<int64_t>() > last_step) continue;
      kept += line + '\n';
      kept_.push_back(record);
    }
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
