// The gantry command-line tool: `gantry <group> <command> [options]`.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/machine_info.h"
#include "train/cli/data_commands.h"
#include "train/cli/fid_commands.h"
#include "train/cli/image_commands.h"
#include "train/cli/mog_commands.h"

#ifndef GANTRY_VERSION
#define GANTRY_VERSION "unknown"
#endif

namespace {

struct Command {
  const char* group;
  const char* name;  // "": the group's own command (`gantry fid --real ...`), taking every argument after the group
  const char* summary;
  int (*run)(const std::vector<std::string>&);
};

const Command kCommands[] = {
    {"mog", "train", "train a GAN on a 2-D mixture of Gaussians", &gantry::cli::mog_train_command},
    {"mog", "grid", "run a grid of mog trainings (modes x methods x seeds) and summarise them",
     &gantry::cli::mog_grid_command},
    {"mog", "compare", "baseline vs top-k vs core-set on 25 modes in a few minutes", &gantry::cli::mog_compare_command},
    {"mog", "eval", "re-evaluate a trained mog run from its checkpoint (several sample sets: the evaluation noise)",
     &gantry::cli::mog_eval_command},
    {"mog", "directions", "top-k vs bottom-k update directions relative to the nearest mode (top-k paper Figs. 2-3)",
     &gantry::cli::mog_directions_command},
    {"image", "train", "train an image GAN (dcgan, msgan, wgan-gc, wgan-gp, sngan, sagan) on a dataset",
     &gantry::cli::image_train_command},
    {"image", "sample", "write images from a trained image run (PNG folder or uint8 .npz)",
     &gantry::cli::image_sample_command},
    {"image", "grid", "run a grid of image trainings (models x methods x seeds) and summarise them",
     &gantry::cli::image_grid_command},
    {"fid", "", "Frechet Inception Distance between two image sources (datasets, runs, folders, .npz)",
     &gantry::cli::fid_command},
    {"fid", "stats", "Inception-feature statistics of an image source, in pytorch-fid's .npz layout",
     &gantry::cli::fid_stats_command},
    {"data", "fetch", "download mnist, fashion-mnist or cifar10 into the dataset cache, verified by md5",
     &gantry::cli::data_fetch_command},
    {"data", "info", "describe a dataset: splits, sizes, classes, per-channel mean/std, identity",
     &gantry::cli::data_info_command},
};

bool is_help(const std::string& arg) { return arg == "--help" || arg == "-h" || arg == "help"; }

// The command list, all groups or one ("" for all).
std::string usage(const std::string& group) {
  std::string text = "usage: gantry ";
  text.append(group.empty() ? "<group>" : group).append(" <command> [options]\n\ncommands:\n");
  for (const Command& c : kCommands) {
    if (!group.empty() && group != c.group) continue;
    const std::string name = *c.name ? std::string(c.group).append(" ").append(c.name) : std::string(c.group);
    const size_t pad = name.size() < 14 ? 16 - name.size() : 2;  // summaries line up in one column
    text.append("  ").append(name).append(pad, ' ');
    text.append(c.summary).append("\n");
  }
  text.append("\nEach command takes --help.");
  if (group.empty()) text.append(" gantry --version prints the version.");
  return text.append("\n");
}

bool is_group(const std::string& name) {
  for (const Command& c : kCommands)
    if (name == c.group) return true;
  return false;
}

int run(const std::vector<std::string>& args) {
  if (args.empty() || is_help(args[0])) {
    std::fputs(usage("").c_str(), args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::printf("gantry %s\nrunning on %s\n", GANTRY_VERSION, gantry::this_machine().summary().c_str());
    return 0;
  }
  const std::string& group = args[0];
  if (!is_group(group)) {
    std::fprintf(stderr, "gantry: unknown command '%s'\n\n%s", group.c_str(), usage("").c_str());
    return 2;
  }
  // A group with a command of its own runs it unless a named command of the group follows.
  for (const Command& c : kCommands)
    if (group == c.group && !*c.name) {
      bool named = false;
      for (const Command& d : kCommands) named |= args.size() > 1 && group == d.group && *d.name && args[1] == d.name;
      if (!named) return c.run(std::vector<std::string>(args.begin() + 1, args.end()));
    }
  if (args.size() < 2 || is_help(args[1])) {
    std::fputs(usage(group).c_str(), args.size() < 2 ? stderr : stdout);
    return args.size() < 2 ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 2, args.end());
  for (const Command& c : kCommands)
    if (group == c.group && args[1] == c.name) return c.run(rest);
  std::fprintf(stderr, "gantry %s: unknown command '%s'\n\n%s", group.c_str(), args[1].c_str(), usage(group).c_str());
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
