#include "kernels/cuda/emu/last_error.h"

namespace gantry::emu {

namespace {
thread_local cudaError_t t_last = cudaSuccess;
thread_local cudaError_t t_detail_code = cudaSuccess;
thread_local std::string t_detail;
}  // namespace

cudaError_t set_last_error(cudaError_t error, const std::string& detail) {
  if (error != cudaSuccess) {
    t_last = error;
    t_detail_code = error;
    t_detail = detail;
  }
  return error;
}

cudaError_t take_last_error() {
  const cudaError_t e = t_last;
  t_last = cudaSuccess;
  return e;
}

cudaError_t peek_last_error() { return t_last; }

const char* error_detail(cudaError_t error) {
  return error == t_detail_code && !t_detail.empty() ? t_detail.c_str() : nullptr;
}

}  // namespace gantry::emu
