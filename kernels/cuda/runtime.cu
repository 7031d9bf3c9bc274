#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "engine/core/cuda_emulation.h"
#include "kernels/cuda/runtime.h"

namespace gantry::cuda {

void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line) {
  // Clear the sticky "last error" of a non-fatal failure so the next call does not report it again.
  (void)cudaGetLastError();
  GANTRY_FAIL("CUDA error: ", call, " failed at ", file, ":", line, ": ", cudaGetErrorName(err), " (",
              cudaGetErrorString(err), ")");
}

bool sync_after_launch() {
  static const bool enabled = [] {
    const char* v = std::getenv("GANTRY_CUDA_SYNC");
    return v != nullptr && std::strcmp(v, "1") == 0;
  }();
  return enabled;
}

void check_launch(const char* file, int line) {
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) throw_cuda_error(err, "kernel launch", file, line);
  if (sync_after_launch()) {
    const cudaError_t sync_err = cudaDeviceSynchronize();
    if (sync_err != cudaSuccess) throw_cuda_error(sync_err, "kernel execution (GANTRY_CUDA_SYNC=1)", file, line);
  }
}

int device_count() {
  static const int count = [] {
    int n = 0;
    const cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {  // no driver, no device, driver too old: no CUDA, not a crash
      (void)cudaGetLastError();
      return 0;
    }
    return n;
  }();
  return count;
}

void check_device(Device device, const char* op) {
  GANTRY_CHECK(device.is_cuda(), op, ": expected a CUDA tensor, got one on ", device.str());
  const int n = device_count();
  GANTRY_CHECK(device.index >= 0 && device.index < n, op, ": device ", device.str(), " does not exist (",
               n, " CUDA device", n == 1 ? "" : "s", " on this machine)");
}

namespace {

constexpr int kMaxDevices = 64;

struct StreamTable {
  std::mutex mutex;
  cudaStream_t default_stream[kMaxDevices] = {};
  cudaStream_t override_stream[kMaxDevices] = {};
  bool has_override[kMaxDevices] = {};
};

StreamTable& streams() {
  static StreamTable* table = new StreamTable();  // never destroyed: streams outlive static teardown
  return *table;
}

void check_index(int device_index) {
  GANTRY_CHECK(device_index >= 0 && device_index < std::min(device_count(), kMaxDevices), "CUDA device index ",
               device_index, " out of range (", device_count(), " devices)");
}

}  // namespace

cudaStream_t current_stream(int device_index) {
  check_index(device_index);
  StreamTable& t = streams();
  std::lock_guard<std::mutex> lock(t.mutex);
  if (t.has_override[device_index]) return t.override_stream[device_index];
  if (t.default_stream[device_index] == nullptr) {
    DeviceGuard guard(device_index);
    GANTRY_CUDA_CHECK(cudaStreamCreateWithFlags(&t.default_stream[device_index], cudaStreamNonBlocking));
  }
  return t.default_stream[device_index];
}

void set_current_stream(int device_index, cudaStream_t stream) {
  check_index(device_index);
  StreamTable& t = streams();
  std::lock_guard<std::mutex> lock(t.mutex);
  t.has_override[device_index] = stream != nullptr;
  t.override_stream[device_index] = stream;
}

DeviceGuard::DeviceGuard(int device_index) {
  GANTRY_CUDA_CHECK(cudaGetDevice(&previous_));
  if (previous_ != device_index) GANTRY_CUDA_CHECK(cudaSetDevice(device_index));
}

DeviceGuard::~DeviceGuard() {
  int now = -1;
  if (cudaGetDevice(&now) == cudaSuccess && now != previous_) (void)cudaSetDevice(previous_);
}

namespace {

// One pinned buffer shared by all devices (cudaHostAllocPortable), used chunk by chunk.
constexpr size_t kStagingBytes = size_t{16} << 20;

struct Staging {
  std::mutex mutex;
  void* buffer = nullptr;
};

Staging& staging() {
  static Staging* s = new Staging();  // never freed: pinned memory lives for the process
  return *s;
}

void* staging_buffer_locked(Staging& s) {
  if (s.buffer == nullptr) GANTRY_CUDA_CHECK(cudaHostAlloc(&s.buffer, kStagingBytes, cudaHostAllocPortable));
  return s.buffer;
}

}  // namespace

void copy_host_to_device(void* dst_device, const void* src_host, size_t nbytes, int device_index) {
  if (nbytes == 0) return;
  DeviceGuard guard(device_index);
  const cudaStream_t stream = current_stream(device_index);
  Staging& s = staging();
  std::lock_guard<std::mutex> lock(s.mutex);
  char* pinned = static_cast<char*>(staging_buffer_locked(s));
  for (size_t done = 0; done < nbytes; done += kStagingBytes) {
    const size_t chunk = std::min(kStagingBytes, nbytes - done);
    std::memcpy(pinned, static_cast<const char*>(src_host) + done, chunk);
    GANTRY_CUDA_CHECK(cudaMemcpyAsync(static_cast<char*>(dst_device) + done, pinned, chunk,
                                      cudaMemcpyHostToDevice, stream));
    // The staging buffer is reused by the next chunk, so this one must have landed.
    GANTRY_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
}

void copy_device_to_host(void* dst_host, const void* src_device, size_t nbytes, int device_index) {
  if (nbytes == 0) return;
  DeviceGuard guard(device_index);
  const cudaStream_t stream = current_stream(device_index);
  Staging& s = staging();
  std::lock_guard<std::mutex> lock(s.mutex);
  char* pinned = static_cast<char*>(staging_buffer_locked(s));
  for (size_t done = 0; done < nbytes; done += kStagingBytes) {
    const size_t chunk = std::min(kStagingBytes, nbytes - done);
    GANTRY_CUDA_CHECK(cudaMemcpyAsync(pinned, static_cast<const char*>(src_device) + done, chunk,
                                      cudaMemcpyDeviceToHost, stream));
    GANTRY_CUDA_CHECK(cudaStreamSynchronize(stream));
    std::memcpy(static_cast<char*>(dst_host) + done, pinned, chunk);
  }
}

namespace {

constexpr int kUploadSlots = 8;

struct UploadSlot {
  void* pinned = nullptr;
  size_t capacity = 0;
  cudaEvent_t done = nullptr;  // recorded after the copy that last read `pinned`
};

struct UploadRing {
  std::mutex mutex;
  UploadSlot slots[kUploadSlots];
  int next = 0;
};

UploadRing& upload_ring(int device_index) {
  static std::mutex mutex;
  static std::vector<UploadRing*>* rings = new std::vector<UploadRing*>();  // never freed, like the streams
  std::lock_guard<std::mutex> lock(mutex);
  if (rings->size() <= static_cast<size_t>(device_index)) rings->resize(device_index + 1, nullptr);
  if ((*rings)[device_index] == nullptr) (*rings)[device_index] = new UploadRing();
  return *(*rings)[device_index];
}

}  // namespace

void upload_async(void* dst_device, const void* src_host, size_t nbytes, int device_index, cudaStream_t stream) {
  if (nbytes == 0) return;
  check_index(device_index);
  DeviceGuard guard(device_index);
  UploadRing& ring = upload_ring(device_index);
  std::lock_guard<std::mutex> lock(ring.mutex);
  UploadSlot& slot = ring.slots[ring.next];
  ring.next = (ring.next + 1) % kUploadSlots;
  if (slot.done == nullptr) {
    GANTRY_CUDA_CHECK(cudaEventCreateWithFlags(&slot.done, cudaEventDisableTiming));
  } else {
    GANTRY_CUDA_CHECK(cudaEventSynchronize(slot.done));  // normally long finished
  }
  if (slot.capacity < nbytes) {
    if (slot.pinned != nullptr) GANTRY_CUDA_CHECK(cudaFreeHost(slot.pinned));
    slot.pinned = nullptr;
    slot.capacity = 0;
    const size_t capacity = std::max<size_t>(nbytes, 64 * 1024);
    GANTRY_CUDA_CHECK(cudaHostAlloc(&slot.pinned, capacity, cudaHostAllocPortable));
    slot.capacity = capacity;
  }
  std::memcpy(slot.pinned, src_host, nbytes);
  GANTRY_CUDA_CHECK(cudaMemcpyAsync(dst_device, slot.pinned, nbytes, cudaMemcpyHostToDevice, stream));
  GANTRY_CUDA_CHECK(cudaEventRecord(slot.done, stream));
}

unsigned int grid_for(long long n, int threads) {
  const long long blocks = (n + threads - 1) / threads;
  // Enough blocks to fill any current GPU many times over; grid-stride loops cover the rest.
  return static_cast<unsigned int>(std::max<long long>(1, std::min<long long>(blocks, 65535LL * 8)));
}

namespace {
[[maybe_unused]] const bool g_registered = [] {
  register_cuda_device_count(&device_count);
#if defined(GANTRY_CUDA_EMU)
  register_cuda_device_emulated();
#endif
  return true;
}();
}  // namespace

}  // namespace gantry::cuda
