#include "engine/core/machine_info.h"

#include <cblas.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace gantry {

namespace {

// The flags that decide which BLAS and engine kernels run, in a fixed order.
const std::vector<std::string>& kernel_relevant_flags() {
  static const std::vector<std::string> flags = {"avx2",     "fma",         "avx512f",     "avx512bw",
                                                 "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16",
                                                 "amx_tile", "amx_bf16",    "amx_int8"};
  return flags;
}

MachineInfo read_machine() {
  MachineInfo m;
  m.cpu_model = "unknown";
  m.logical_cpus = static_cast<int>(std::thread::hardware_concurrency());
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::set<std::string> flags;
  for (std::string line; std::getline(cpuinfo, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    key.erase(key.find_last_not_of(" \t") + 1);
    const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : std::string();
    if (key == "model name" && m.cpu_model == "unknown") m.cpu_model = value;
    if (key == "flags" && flags.empty()) {
      std::istringstream words(value);
      for (std::string w; words >> w;) flags.insert(w);
    }
  }
  for (const auto& f : kernel_relevant_flags())
    if (flags.count(f)) m.isa.push_back(f);
  if (const char* core = openblas_get_corename()) m.blas_core = core;
  if (const char* config = openblas_get_config()) m.blas_config = config;
  while (!m.blas_config.empty() && m.blas_config.back() == ' ') m.blas_config.pop_back();
  return m;
}

}  // namespace

nlohmann::json MachineInfo::to_json() const {
  return nlohmann::json{{"cpu_model", cpu_model},
                        {"logical_cpus", logical_cpus},
                        {"isa", isa},
                        {"blas_core", blas_core},
                        {"blas_config", blas_config}};
}

std::string MachineInfo::summary() const {
  std::string line = cpu_model + " (" + std::to_string(logical_cpus) + " logical";
  if (!isa.empty()) {
    line += ";";
    for (const auto& f : isa) line += " " + f;
  }
  line += "); OpenBLAS " + (blas_core.empty() ? std::string("unknown") : blas_core) + " kernels";
  return line;
}

const MachineInfo& this_machine() {
  static const MachineInfo info = read_machine();
  return info;
}

}  // namespace gantry
