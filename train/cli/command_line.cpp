#include "train/cli/command_line.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "train/cli/mog_commands.h"

namespace gantry::cli {

namespace {

bool needs_quotes(const std::string& word) {
  if (word.empty()) return true;
  return !std::all_of(word.begin(), word.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return std::isalnum(c) || std::string_view("_-+=.,:/@%").find(ch) != std::string_view::npos;
  });
}

std::string quoted(const std::string& word) {
  if (!needs_quotes(word)) return word;
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') out += "'\\''";  // close the quotes, an escaped quote, reopen
    else out += c;
  }
  out += '\'';
  return out;
}

}  // namespace

std::string shell_command_line(const std::vector<std::string>& words) {
  std::string line;
  for (const auto& w : words) {
    if (!line.empty()) line += ' ';
    line += quoted(w);
  }
  return line;
}

std::string repeat_command_line(const std::vector<std::string>& subcommand, const std::vector<std::string>& args,
                                const std::string& extra_flag) {
  std::vector<std::string> words = {self_executable_path()};
  words.insert(words.end(), subcommand.begin(), subcommand.end());
  words.insert(words.end(), args.begin(), args.end());
  if (!extra_flag.empty() && std::find(args.begin(), args.end(), extra_flag) == args.end()) words.push_back(extra_flag);
  return shell_command_line(words);
}

std::string resume_command_line(const std::vector<std::string>& subcommand, std::vector<std::string> args) {
  args.erase(std::remove(args.begin(), args.end(), "--restart"), args.end());
  return repeat_command_line(subcommand, args, "--resume");
}

}  // namespace gantry::cli
