#include "engine/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/core/error.h"

namespace gantry::io {
namespace {

std::string errno_text() { return std::strerror(errno); }

void write_all(int fd, std::string_view bytes, const std::string& tmp) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    GANTRY_CHECK(n > 0, "write_file_atomic: writing '", tmp, "' failed: ", errno_text());
    done += static_cast<size_t>(n);
  }
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view bytes) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string tmp = atomic_temporary_path(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  GANTRY_CHECK(fd >= 0, "write_file_atomic: cannot create '", tmp, "': ", errno_text());
  try {
    write_all(fd, bytes, tmp);
    GANTRY_CHECK(::fsync(fd) == 0, "write_file_atomic: fsync of '", tmp, "' failed: ", errno_text());
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(tmp.c_str());
    GANTRY_FAIL("write_file_atomic: cannot rename '", tmp, "' to '", path, "': ", why);
  }
  // Persist the rename itself.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

std::string atomic_temporary_path(const std::string& path) { return path + ".tmp." + std::to_string(::getpid()); }

std::optional<long> atomic_temporary_writer(const std::string& file_name) {
  const size_t marker = file_name.rfind(".tmp.");
  if (marker == std::string::npos || marker == 0) return std::nullopt;
  const std::string digits = file_name.substr(marker + 5);
  if (digits.empty() || digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stol(digits);
}

void check_writable_file(const std::string& path, const std::string& what) {
  namespace fs = std::filesystem;
  GANTRY_CHECK(!path.empty(), what, ": the path is empty");
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  GANTRY_CHECK(fs::is_directory(dir), what, ": folder '", dir.string(), "' does not exist");
  GANTRY_CHECK(!fs::is_directory(target), what, ": '", path, "' is a folder, not a file");
  const std::string probe = atomic_temporary_path(path);
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  GANTRY_CHECK(fd >= 0, what, ": cannot write '", path, "': ", errno_text());
  ::close(fd);
  ::unlink(probe.c_str());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  GANTRY_CHECK(in.good(), "read_file: cannot open '", path, "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  GANTRY_CHECK(!in.bad(), "read_file: error reading '", path, "'");
  return ss.str();
}

}  // namespace gantry::io
