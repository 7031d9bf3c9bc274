// The gantry command-line tool: `gantry <group> <command> [options]`.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "train/cli/mog_commands.h"

namespace {

const char* kUsage =
    "usage: gantry <command> [options]\n\n"
    "commands:\n"
    "  mog train     train a GAN on a 2-D mixture of Gaussians\n"
    "  mog grid      run a grid of mog trainings (modes x methods x seeds) and summarise them\n"
    "  mog compare   baseline vs top-k vs core-set on 25 modes in a few minutes\n"
    "  mog directions  top-k vs bottom-k update directions relative to the nearest mode (top-k paper Figs. 2-3)\n\n"
    "Each command takes --help.\n";

int run(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "mog") {
    const std::vector<std::string> rest(args.begin() + std::min<size_t>(2, args.size()), args.end());
    const std::string sub = args.size() > 1 ? args[1] : "";
    if (sub == "train") return gantry::cli::mog_train_command(rest);
    if (sub == "grid") return gantry::cli::mog_grid_command(rest);
    if (sub == "compare") return gantry::cli::mog_compare_command(rest);
    if (sub == "directions") return gantry::cli::mog_directions_command(rest);
    std::fprintf(stderr, "gantry mog: unknown command '%s' (expected train, grid, compare or directions)\n", sub.c_str());
    return 2;
  }
  std::fprintf(stderr, "gantry: unknown command '%s'\n\n%s", args[0].c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const gantry::Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
