#include "train/cli/arg_parser.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "engine/core/error.h"

namespace gantry::cli {

ArgParser::ArgParser(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

ArgParser& ArgParser::option(const std::string& name, const std::string& metavar, const std::string& help,
                             std::optional<std::string> default_value) {
  specs_[name] = Spec{metavar, help, std::move(default_value), false};
  order_.push_back(name);
  return *this;
}

ArgParser& ArgParser::flag(const std::string& name, const std::string& help) {
  specs_[name] = Spec{"", help, std::nullopt, true};
  order_.push_back(name);
  return *this;
}

const ArgParser::Spec& ArgParser::spec(const std::string& name) const {
  const auto it = specs_.find(name);
  GANTRY_CHECK(it != specs_.end(), command_, ": internal error: undeclared option --", name);
  return it->second;
}

bool ArgParser::parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(help().c_str(), stdout);
      return false;
    }
    GANTRY_CHECK(a.size() > 2 && a.compare(0, 2, "--") == 0, command_, ": unexpected argument '", a,
                 "' (see --help)");
    std::string name = a.substr(2), value;
    bool has_inline_value = false;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_inline_value = true;
    }
    const auto it = specs_.find(name);
    GANTRY_CHECK(it != specs_.end(), command_, ": unknown option --", name, " (see --help)");
    if (it->second.is_flag) {
      GANTRY_CHECK(!has_inline_value, command_, ": --", name, " takes no value");
      values_[name] = "1";
      continue;
    }
    if (!has_inline_value) {
      GANTRY_CHECK(i + 1 < args.size(), command_, ": --", name, " needs a value (", it->second.metavar, ")");
      value = args[++i];
    }
    values_[name] = value;
  }
  return true;
}

std::string ArgParser::help() const {
  std::ostringstream os;
  os << "usage: " << command_ << " [options]\n\n" << summary_ << "\n\noptions:\n";
  for (const auto& name : order_) {
    const Spec& s = specs_.at(name);
    std::string left = "  --" + name + (s.is_flag ? "" : " " + s.metavar);
    if (left.size() < 28) left.resize(28, ' ');
    else left += "\n" + std::string(28, ' ');
    os << left << s.help;
    if (s.default_value) os << " (default " << *s.default_value << ")";
    os << "\n";
  }
  os << "  --help                    this text\n";
  return os.str();
}

bool ArgParser::given(const std::string& name) const {
  spec(name);
  return values_.count(name) > 0;
}

bool ArgParser::flag_set(const std::string& name) const {
  GANTRY_CHECK(spec(name).is_flag, command_, ": internal error: --", name, " is not a flag");
  return values_.count(name) > 0;
}

std::string ArgParser::str(const std::string& name) const {
  const Spec& s = spec(name);
  if (const auto it = values_.find(name); it != values_.end()) return it->second;
  GANTRY_CHECK(s.default_value.has_value(), command_, ": --", name, " is required (see --help)");
  return *s.default_value;
}

int64_t ArgParser::int64(const std::string& name) const {
  const std::string v = str(name);
  char* end = nullptr;
  errno = 0;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  GANTRY_CHECK(!v.empty() && *end == '\0' && errno == 0, command_, ": --", name, " expects an integer, got '", v,
               "'");
  return x;
}

double ArgParser::real(const std::string& name) const {
  const std::string v = str(name);
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  GANTRY_CHECK(!v.empty() && *end == '\0', command_, ": --", name, " expects a number, got '", v, "'");
  return x;
}

std::vector<int64_t> ArgParser::int64_list(const std::string& name) const {
  std::vector<int64_t> values;
  for (const auto& item : list(name)) {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    GANTRY_CHECK(*end == '\0' && errno == 0, "--", name, ": '", item, "' is not an integer");
    values.push_back(v);
  }
  return values;
}

std::vector<std::string> ArgParser::list(const std::string& name) const {
  const std::string text = str(name);
  GANTRY_CHECK(!text.empty(), command_, ": --", name, " expects a comma-separated list, got ''");
  // Split on every comma, so a doubled or trailing comma shows up as an empty entry (a typo, not a
  // value to skip silently).
  std::vector<std::string> out;
  size_t begin = 0;
  for (size_t comma; (comma = text.find(',', begin)) != std::string::npos; begin = comma + 1)
    out.push_back(text.substr(begin, comma - begin));
  out.push_back(text.substr(begin));
  for (const auto& item : out)
    GANTRY_CHECK(!item.empty(), command_, ": --", name, " has an empty entry in '", text,
                 "' (a doubled, leading or trailing comma)");
  return out;
}

void ArgParser::assign_if_given(const std::string& name, int64_t& field) const {
  if (given(name)) field = int64(name);
}
void ArgParser::assign_if_given(const std::string& name, double& field) const {
  if (given(name)) field = real(name);
}
void ArgParser::assign_if_given(const std::string& name, std::string& field) const {
  if (given(name)) field = str(name);
}

}  // namespace gantry::cli
