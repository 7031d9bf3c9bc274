#include <gtest/gtest.h>

#include <algorithm>

#include "engine/core/machine_info.h"

namespace gantry {
namespace {

TEST(MachineInfo, NamesTheCpuAndTheBlasKernels) {
  const MachineInfo& m = this_machine();
  // Linux always has /proc/cpuinfo with a model name on x86-64; OpenBLAS always reports a core.
  EXPECT_NE(m.cpu_model, "unknown");
  EXPECT_FALSE(m.cpu_model.empty());
  EXPECT_GE(m.logical_cpus, 1);
  EXPECT_FALSE(m.blas_core.empty());
  EXPECT_NE(m.blas_config.find("OpenBLAS"), std::string::npos) << m.blas_config;
  // The build targets x86-64-v3, so every machine that runs it has AVX2 and FMA.
  EXPECT_NE(std::find(m.isa.begin(), m.isa.end(), "avx2"), m.isa.end());
  const std::string line = m.summary();
  EXPECT_NE(line.find(m.cpu_model), std::string::npos) << line;
  EXPECT_NE(line.find(m.blas_core), std::string::npos) << line;
  const auto j = m.to_json();
  EXPECT_EQ(j.at("cpu_model"), m.cpu_model);
  EXPECT_EQ(j.at("blas_core"), m.blas_core);
  EXPECT_EQ(j.at("isa").size(), m.isa.size());
}

}  // namespace
}  // namespace gantry
