#pragma once
// Command lines shown to users (e.g. "to resume, run: ..."), quoted so they can be pasted into a shell.
#include <string>
#include <vector>

namespace gantry::cli {

// The words joined by spaces; a word with characters a POSIX shell treats specially is single-quoted.
std::string shell_command_line(const std::vector<std::string>& words);

// `<this gantry binary> <subcommand words...> <args...>`, quoted, with `extra_flag` appended unless args
// already hold it ("" for none): the command that repeats (or resumes) this invocation.
std::string repeat_command_line(const std::vector<std::string>& subcommand, const std::vector<std::string>& args,
                                const std::string& extra_flag = "");

// The command that resumes an interrupted training invocation: repeat_command_line with --resume
// added and any --restart dropped (repeating it would discard the run being resumed).
std::string resume_command_line(const std::vector<std::string>& subcommand, std::vector<std::string> args);

}  // namespace gantry::cli
