#pragma once
// A small command-line option parser for the gantry subcommands: --name VALUE, --name=VALUE and
// boolean --flag options, generated --help text, and errors that name the offending option.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gantry::cli {

class ArgParser {
 public:
  ArgParser(std::string command, std::string summary);
  // An option taking a value; `metavar` names the value in the help ("N", "DIR").
  ArgParser& option(const std::string& name, const std::string& metavar, const std::string& help,
                    std::optional<std::string> default_value = std::nullopt);
  ArgParser& flag(const std::string& name, const std::string& help);

  // Parses args (after the subcommand words). Returns false when --help was given (help printed to
  // stdout). Throws gantry::Error for unknown options, missing values or stray arguments.
  bool parse(const std::vector<std::string>& args);
  std::string help() const;

  bool given(const std::string& name) const;
  bool flag_set(const std::string& name) const;
  std::string str(const std::string& name) const;  // value or default; throws when neither
  int64_t int64(const std::string& name) const;
  double real(const std::string& name) const;
  // Sets `field` to the option's value when it was given on the command line (else leaves it).
  void assign_if_given(const std::string& name, int64_t& field) const;
  void assign_if_given(const std::string& name, double& field) const;
  void assign_if_given(const std::string& name, std::string& field) const;
  // Comma-separated; throws naming the option for an empty value or an empty entry ("25,,64").
  std::vector<std::string> list(const std::string& name) const;
  // list() of integers; throws naming the option and the entry that is not one.
  std::vector<int64_t> int64_list(const std::string& name) const;

 private:
  struct Spec {
    std::string metavar, help;
    std::optional<std::string> default_value;
    bool is_flag = false;
  };
  const Spec& spec(const std::string& name) const;
  std::string command_, summary_;
  std::vector<std::string> order_;
  std::map<std::string, Spec> specs_;
  std::map<std::string, std::string> values_;
};

}  // namespace gantry::cli
