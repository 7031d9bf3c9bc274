#pragma once
// Fibers: user-space execution contexts with their own stacks, switched explicitly. One fiber runs one
// emulated CUDA thread; the block scheduler switches between them at barriers and warp-collective
// operations. x86-64 only (the switch saves the System V callee-saved registers, MXCSR and the x87
// control word).
#include <cstddef>
#include <memory>
#include <vector>

namespace gantry::emu {

// A stack: an mmap'd region with a PROT_NONE guard page below it, so an overflow faults instead of
// silently overwriting a neighbour.
class FiberStack {
 public:
  explicit FiberStack(size_t bytes);
  ~FiberStack();
  FiberStack(const FiberStack&) = delete;
  FiberStack& operator=(const FiberStack&) = delete;
  char* top() const { return base_ + bytes_; }
  char* bottom() const { return base_; }

 private:
  char* mapping_ = nullptr;  // guard page + stack
  char* base_ = nullptr;
  size_t bytes_ = 0;
};

// The saved stack pointer of a suspended context (the registers live on its stack).
struct FiberContext {
  void* sp = nullptr;
};

// Prepares `context` so that switching to it calls entry(arg) on `stack`. entry must never return:
// it ends by switching away for good.
void prepare_fiber(FiberContext& context, FiberStack& stack, void (*entry)(void*), void* arg);

// Saves the running context into `from` and resumes `to`.
void switch_fiber(FiberContext& from, const FiberContext& to);

// Stacks reused across blocks and launches (creating them is a syscall each).
class StackPool {
 public:
  explicit StackPool(size_t stack_bytes) : stack_bytes_(stack_bytes) {}
  FiberStack* get(size_t i);  // the i-th stack, created on first use

 private:
  size_t stack_bytes_;
  std::vector<std::unique_ptr<FiberStack>> stacks_;
};

}  // namespace gantry::emu
