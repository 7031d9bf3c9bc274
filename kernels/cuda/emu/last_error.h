#pragma once
// The runtime's last error, per host thread as in CUDA, with the emulator's explanation of it
// (cudaGetErrorString returns that explanation, so GANTRY_CUDA_CHECK messages carry it).
#include <cuda_runtime.h>

#include <string>

namespace gantry::emu {

cudaError_t set_last_error(cudaError_t error, const std::string& detail);
cudaError_t take_last_error();                // cudaGetLastError
cudaError_t peek_last_error();                // cudaPeekAtLastError
const char* error_detail(cudaError_t error);  // the detail of the last error with that code, or null

}  // namespace gantry::emu
