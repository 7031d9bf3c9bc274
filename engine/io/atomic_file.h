#pragma once
// Crash-safe file replacement: the bytes go to a temporary file in the same folder, which is
// fsync'ed and then renamed over `path` (and the folder fsync'ed), so a reader sees either the old
// file or the complete new one, never a partial write.
#include <optional>
#include <string>
#include <string_view>

namespace gantry::io {

void write_file_atomic(const std::string& path, std::string_view bytes);
// The temporary file write_file_atomic(path) writes first: "<path>.tmp.<pid of the writer>". A writer
// killed mid-write leaves it behind.
std::string atomic_temporary_path(const std::string& path);
// The writer's pid when `file_name` has the form of such a temporary file, otherwise nothing.
std::optional<long> atomic_temporary_writer(const std::string& file_name);
// Checks, before any work is done, that write_file_atomic(path) can succeed: the folder exists, the
// path is not a folder, and a file can be created beside it. Throws gantry::Error naming `what` (the
// option the path came from) and the path otherwise. Leaves nothing behind.
void check_writable_file(const std::string& path, const std::string& what);
// Reads a whole file; throws gantry::Error naming the path when it cannot.
std::string read_file(const std::string& path);

}  // namespace gantry::io
