#pragma once
// What a number measured on this machine depends on: the CPU model, the vector ISA it offers and the
// OpenBLAS kernel set chosen for it at run time. OpenBLAS (DYNAMIC_ARCH) picks its GEMM kernels per
// CPU, so float sums round differently from machine to machine and a GAN's trajectory for one seed is
// reproducible bit for bit only on the same CPU kind and BLAS build. Run records carry this so a
// figure always names where it was measured.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gantry {

struct MachineInfo {
  std::string cpu_model;  // /proc/cpuinfo "model name" ("unknown" when unreadable)
  int logical_cpus = 0;
  std::vector<std::string> isa;  // the vector extensions that change kernels: avx2, avx512f, avx512_bf16, amx_*
  std::string blas_core;         // OpenBLAS's kernel set for this CPU (e.g. Haswell, Zen, SkylakeX, Cooperlake)
  std::string blas_config;       // OpenBLAS's build description (version, DYNAMIC_ARCH, ...)

  nlohmann::json to_json() const;
  // One line for logs and benchmark headers: "AMD EPYC (2 logical; avx2 avx512f ...); OpenBLAS Cooperlake kernels".
  std::string summary() const;
};

// Read once per process (cheap, but the answer never changes).
const MachineInfo& this_machine();

}  // namespace gantry
