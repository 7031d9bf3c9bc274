#pragma once
// Crash-safe file replacement: the bytes go to a temporary file in the same folder, which is
// fsync'ed and then renamed over `path` (and the folder fsync'ed), so a reader sees either the old
// file or the complete new one, never a partial write.
#include <string>
#include <string_view>

namespace gantry::io {

void write_file_atomic(const std::string& path, std::string_view bytes);
// Reads a whole file; throws gantry::Error naming the path when it cannot.
std::string read_file(const std::string& path);

}  // namespace gantry::io
