// Streams and events. The emulator runs every launch and copy to completion when it is issued, so
// streams are plain handles, synchronisation returns at once and an event is a host timestamp
// (elapsed times are CPU times of the emulator, not GPU times).
#include <cuda_runtime.h>

#include <chrono>

#include "kernels/cuda/emu/last_error.h"

struct CUstream_st {
  unsigned int flags = 0;
};

struct CUevent_st {
  unsigned int flags = 0;
  bool recorded = false;
  std::chrono::steady_clock::time_point when;
};

extern "C" {

cudaError_t cudaStreamCreate(cudaStream_t* s) {
  *s = new CUstream_st{};
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int flags) {
  *s = new CUstream_st{flags};
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t s) {
  delete s;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamQuery(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t, unsigned int) { return cudaSuccess; }
cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

cudaError_t cudaEventCreate(cudaEvent_t* e) {
  *e = new CUevent_st{};
  return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int flags) {
  *e = new CUevent_st{};
  (*e)->flags = flags;
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t e) {
  delete e;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t) {
  if (e == nullptr) return gantry::emu::set_last_error(cudaErrorInvalidResourceHandle, "cudaEventRecord: null event");
  e->recorded = true;
  e->when = std::chrono::steady_clock::now();
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventQuery(cudaEvent_t) { return cudaSuccess; }

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (start == nullptr || end == nullptr || !start->recorded || !end->recorded)
    return gantry::emu::set_last_error(cudaErrorInvalidResourceHandle,
                                       "cudaEventElapsedTime: both events must have been recorded");
  if ((start->flags & cudaEventDisableTiming) || (end->flags & cudaEventDisableTiming))
    return gantry::emu::set_last_error(cudaErrorInvalidResourceHandle,
                                       "cudaEventElapsedTime: an event was created with cudaEventDisableTiming");
  *ms = std::chrono::duration<float, std::milli>(end->when - start->when).count();
  return cudaSuccess;
}

}  // extern "C"
