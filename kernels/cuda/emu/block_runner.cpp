#include "kernels/cuda/emu/block_runner.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <map>
#include <numeric>
#include <sstream>
#include <string_view>

#include "kernels/cuda/emu/memory_checks.h"

__thread gantry::emu::ThreadState* gantry_emu_current_thread = nullptr;

namespace gantry::emu {

namespace {

constexpr size_t kStackBytes = size_t{256} << 10;

std::string site_str(const SourceSite& s) {
  std::ostringstream o;
  o << s.what << " at " << s.file << ":" << s.line;
  return o.str();
}

bool same_site(const SourceSite& a, const SourceSite& b) {
  return a.line == b.line && std::string_view(a.file) == b.file && std::string_view(a.what) == b.what;
}

std::string dim_str(const uint3& d) {
  return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}

bool waiting(ThreadStatus s) { return s == ThreadStatus::at_barrier || s == ThreadStatus::at_warp_sync; }

}  // namespace

BlockRunner::BlockRunner() : stacks_(kStackBytes) {}

std::string BlockRunner::where(const ThreadState& t) const {
  return "kernel " + std::string(task_->kernel) + ", block " + dim_str(t.block_idx) + ", thread " +
         dim_str(t.thread_idx);
}

void BlockRunner::fiber_main(void* runner) {
  auto* self = static_cast<BlockRunner*>(runner);
  ThreadState& t = current_thread();
  try {
    self->task_->body(self->task_->context);
  } catch (const std::exception& e) {
    self->fault(std::string("an exception escaped the kernel: ") + e.what());
  } catch (...) {
    self->fault("an exception escaped the kernel");
  }
  t.status = ThreadStatus::exited;
  self->free_stacks_.push_back(t.stack);  // reused only after the switch below: never resumed
  switch_fiber(t.context, self->scheduler_);
  std::abort();
}

void BlockRunner::resume(ThreadState& t) {
  if (t.status == ThreadStatus::not_started) {
    if (free_stacks_.empty()) {
      t.stack = allocated_stacks_++;
    } else {
      t.stack = free_stacks_.back();
      free_stacks_.pop_back();
    }
    prepare_fiber(t.context, *stacks_.get(static_cast<size_t>(t.stack)), &BlockRunner::fiber_main, this);
  }
  t.status = ThreadStatus::runnable;
  gantry_emu_current_thread = &t;
  switch_fiber(scheduler_, t.context);
  gantry_emu_current_thread = nullptr;
}

void BlockRunner::suspend(ThreadState& t) {
  switch_fiber(t.context, scheduler_);
  gantry_emu_current_thread = &t;  // the scheduler resumed us
}

void BlockRunner::fault(const std::string& message) {
  ThreadState& t = current_thread();
  fault_ = where(t) + ": " + message;
  faulted_ = true;
  t.status = ThreadStatus::faulted;
  switch_fiber(t.context, scheduler_);
  std::abort();  // a faulted fiber is abandoned
}

void BlockRunner::fail_block(const std::string& message) {
  const uint3& b = task_->block_idx;
  throw KernelFault("kernel " + std::string(task_->kernel) + ", block " + dim_str(b) + ": " + message);
}

void BlockRunner::barrier(const SourceSite& site) {
  ThreadState& t = current_thread();
  t.status = ThreadStatus::at_barrier;
  t.wait_site = site;
  suspend(t);
}

void BlockRunner::warp_arrive(uint32_t mask, const SourceSite& site) {
  ThreadState& t = current_thread();
  WarpState& w = warps_[t.warp];
  const uint32_t bit = uint32_t{1} << t.lane;
  if ((mask & bit) == 0) {
    std::ostringstream o;
    o << site_str(site) << ": lane " << t.lane << " calls it with mask 0x" << std::hex << mask
      << ", which does not include the calling lane";
    fault(o.str());
  }
  const int first_lane = t.warp * kWarpSize;
  const int lanes_here = std::min(kWarpSize, num_threads_ - first_lane);
  const uint32_t existing = lanes_here == kWarpSize ? ~uint32_t{0} : (uint32_t{1} << lanes_here) - 1;
  if ((mask & ~existing) != 0) {
    std::ostringstream o;
    o << site_str(site) << ": mask 0x" << std::hex << mask << " names lanes that do not exist (warp " << std::dec
      << t.warp << " has " << lanes_here << " lanes)";
    fault(o.str());
  }
  if (w.arrived != 0 && (w.mask != mask || !same_site(w.site, site))) {
    std::ostringstream o;
    o << "lanes of warp " << t.warp << " disagree: lane " << t.lane << " reaches " << site_str(site) << " (mask 0x"
      << std::hex << mask << ") while others wait at " << site_str(w.site) << " (mask 0x" << w.mask << ")";
    fault(o.str());
  }
  w.mask = mask;
  w.site = site;
  w.arrived |= bit;
  if ((w.arrived & mask) == mask) {  // the last lane releases the others and carries on
    join_lane_clocks(first_lane, mask);
    for (int l = 0; l < kWarpSize; ++l)
      if (mask & (uint32_t{1} << l)) threads_[first_lane + l].status = ThreadStatus::runnable;
    w.arrived = 0;
    w.parity ^= 1;
    return;
  }
  t.status = ThreadStatus::at_warp_sync;
  t.wait_site = site;
  suspend(t);
}

// A collective orders what its lanes did before it before what they do after it: each lane's own
// clock component advances, then every lane takes the elementwise maximum.
void BlockRunner::join_lane_clocks(int first_lane, uint32_t mask) {
  uint32_t joined[kWarpSize] = {};
  for (int l = 0; l < kWarpSize; ++l) {
    if ((mask & (uint32_t{1} << l)) == 0) continue;
    uint32_t* clock = threads_[static_cast<size_t>(first_lane + l)].lane_clock;
    ++clock[l];
    for (int k = 0; k < kWarpSize; ++k) joined[k] = std::max(joined[k], clock[k]);
  }
  for (int l = 0; l < kWarpSize; ++l) {
    if (mask & (uint32_t{1} << l))
      std::copy(joined, joined + kWarpSize, threads_[static_cast<size_t>(first_lane + l)].lane_clock);
  }
}

std::string BlockRunner::describe_waiting() const {
  std::map<std::string, int> counts;
  for (const ThreadState& t : threads_) {
    if (t.status == ThreadStatus::at_barrier || t.status == ThreadStatus::at_warp_sync) ++counts[site_str(t.wait_site)];
    else if (t.status == ThreadStatus::exited) ++counts["exited"];
  }
  std::string s;
  for (const auto& [what, n] : counts) s += (s.empty() ? "" : ", ") + std::to_string(n) + " at " + what;
  return s;
}

void BlockRunner::release_barrier_or_fail() {
  int at_barrier = 0, at_warp = 0, exited = 0;
  const SourceSite* site = nullptr;
  bool one_site = true;
  for (const ThreadState& t : threads_) {
    if (t.status == ThreadStatus::at_barrier) {
      ++at_barrier;
      if (site == nullptr) site = &t.wait_site;
      else if (!same_site(*site, t.wait_site)) one_site = false;
    } else if (t.status == ThreadStatus::at_warp_sync) {
      ++at_warp;
    } else if (t.status == ThreadStatus::exited) {
      ++exited;
    }
  }
  if (at_warp > 0) {
    fail_block("deadlock: lanes wait for warp partners that never arrive (" + describe_waiting() + ")");
  }
  if (exited > 0) {
    fail_block(site_str(*site) + " reached by " + std::to_string(at_barrier) + " of " + std::to_string(num_threads_) +
               " threads; the other " + std::to_string(exited) + " had exited");
  }
  if (!one_site) fail_block("threads wait at different barriers (" + describe_waiting() + ")");
  for (ThreadState& t : threads_) t.status = ThreadStatus::runnable;
  begin_sync_phase();
}

void BlockRunner::run(const BlockTask& task, const Schedule& schedule, std::mt19937_64& rng) {
  task_ = &task;
  num_threads_ = static_cast<int>(task.block.x * task.block.y * task.block.z);
  threads_.assign(static_cast<size_t>(num_threads_), ThreadState{});
  const int num_warps = (num_threads_ + kWarpSize - 1) / kWarpSize;
  if (static_cast<int>(warps_.size()) < num_warps) warps_.resize(static_cast<size_t>(num_warps));
  for (int w = 0; w < num_warps; ++w) {
    warps_[static_cast<size_t>(w)].arrived = 0;
    warps_[static_cast<size_t>(w)].parity = 0;
  }
  free_stacks_.resize(static_cast<size_t>(allocated_stacks_));
  std::iota(free_stacks_.rbegin(), free_stacks_.rend(), 0);
  faulted_ = false;
  for (int i = 0; i < num_threads_; ++i) {
    ThreadState& t = threads_[static_cast<size_t>(i)];
    t.thread_idx =
        uint3{static_cast<unsigned>(i) % task.block.x, static_cast<unsigned>(i) / task.block.x % task.block.y,
              static_cast<unsigned>(i) / (task.block.x * task.block.y)};
    t.block_idx = task.block_idx;
    t.block_dim = task.block;
    t.grid_dim = task.grid;
    t.linear = i;
    t.lane = i % kWarpSize;
    t.warp = i / kWarpSize;
    t.block = this;
  }
  order_.resize(static_cast<size_t>(num_threads_));
  std::iota(order_.begin(), order_.end(), 0);
  if (schedule.kind == ScheduleKind::reverse) std::reverse(order_.begin(), order_.end());
  for (;;) {
    if (schedule.kind == ScheduleKind::random) std::shuffle(order_.begin(), order_.end(), rng);
    bool ran = false;
    for (int i : order_) {
      ThreadState& t = threads_[static_cast<size_t>(i)];
      if (t.status != ThreadStatus::not_started && t.status != ThreadStatus::runnable) continue;
      resume(t);
      ran = true;
      if (faulted_) throw KernelFault(fault_);
    }
    if (ran) continue;
    bool any_waiting = false;
    for (const ThreadState& t : threads_) any_waiting = any_waiting || waiting(t.status);
    if (!any_waiting) return;  // every thread exited
    release_barrier_or_fail();
  }
}

}  // namespace gantry::emu
