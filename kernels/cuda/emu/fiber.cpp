#include "kernels/cuda/emu/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#if !defined(__x86_64__)
#error "the CUDA emulator's fiber switch is written for x86-64"
#endif

extern "C" void gantry_emu_switch_stack(void** save_sp, void* load_sp);
extern "C" void gantry_emu_fiber_start();

// Push the callee-saved registers and the floating-point control state, swap stack pointers, pop.
// A new fiber's stack is laid out as if it had been switched away from just before calling
// gantry_emu_fiber_start, which finds its entry function in r13 and argument in r12.
asm(R"(
  .text
  .globl gantry_emu_switch_stack
  .type gantry_emu_switch_stack,@function
gantry_emu_switch_stack:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size gantry_emu_switch_stack,.-gantry_emu_switch_stack

  .globl gantry_emu_fiber_start
  .type gantry_emu_fiber_start,@function
gantry_emu_fiber_start:
  movq %r12, %rdi
  andq $-16, %rsp
  callq *%r13
  ud2
  .size gantry_emu_fiber_start,.-gantry_emu_fiber_start
)");

namespace gantry::emu {

namespace {
size_t page_size() {
  static const size_t p = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return p;
}
}  // namespace

FiberStack::FiberStack(size_t bytes) {
  const size_t page = page_size();
  bytes_ = (bytes + page - 1) / page * page;
  void* m = mmap(nullptr, bytes_ + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) {
    std::fprintf(stderr, "CUDA emulator: cannot map a %zu-byte fiber stack\n", bytes_);
    std::abort();
  }
  mapping_ = static_cast<char*>(m);
  mprotect(mapping_, page, PROT_NONE);
  base_ = mapping_ + page;
}

FiberStack::~FiberStack() { munmap(mapping_, bytes_ + page_size()); }

void prepare_fiber(FiberContext& context, FiberStack& stack, void (*entry)(void*), void* arg) {
  // From the top: [top-16] return address, then rbp, rbx, r12, r13, r14, r15, then MXCSR/x87 word.
  auto* top = reinterpret_cast<uint64_t*>(reinterpret_cast<uintptr_t>(stack.top()) & ~uintptr_t{15});
  uint64_t* sp = top - 2;
  sp[0] = reinterpret_cast<uint64_t>(&gantry_emu_fiber_start);
  *--sp = 0;                                  // rbp
  *--sp = 0;                                  // rbx
  *--sp = reinterpret_cast<uint64_t>(arg);    // r12
  *--sp = reinterpret_cast<uint64_t>(entry);  // r13
  *--sp = 0;                                  // r14
  *--sp = 0;                                  // r15
  *--sp = uint64_t{0x037F} << 32 | 0x1F80;    // x87 control word (high half), MXCSR (low half)
  context.sp = sp;
}

void switch_fiber(FiberContext& from, const FiberContext& to) { gantry_emu_switch_stack(&from.sp, to.sp); }

FiberStack* StackPool::get(size_t i) {
  while (stacks_.size() <= i) stacks_.push_back(std::make_unique<FiberStack>(stack_bytes_));
  return stacks_[i].get();
}

}  // namespace gantry::emu
