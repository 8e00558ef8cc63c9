// Splitting a kernel call across threads by independent tasks (baseline code; std:: allowed).
//
// parallel_tasks(count, work_per_task, fn) runs fn(begin, end) over contiguous ranges covering
// [0, count), a few ranges per thread (kernel_threads(), dispatch.h): the calling thread and the
// pool's workers each run the ranges of their own contiguous block first, then any left in the
// others' blocks (a second caller that finds the pool busy starts threads of its own sharing
// one counter; parallel.cc), when count * work_per_task is large enough to pay for starting
// threads, else fn(0, count) on the calling thread. Each task
// must compute its outputs alone (no shared accumulation), so results are bit-identical for any
// thread count. fn returns the lowest failing output index of its range, or -1; the call
// returns the lowest over all ranges, or -1. fn must not throw.
#pragma once

#include <cstdint>
#include <functional>

namespace fxsim {

// Below this much work (multiply-adds or elements) a call stays on the calling thread: starting
// threads costs more.
constexpr int64_t kParallelMinWork = int64_t(1) << 18;

// Ranges per thread of one call (at most; fewer when count is smaller): more leave a late thread's
// share to the others in smaller pieces, fewer give each range longer runs of memory.
constexpr int64_t kPiecesPerThread = 4;

int64_t parallel_tasks(int64_t count, int64_t work_per_task, const std::function<int64_t(int64_t, int64_t)>& fn);

// parallel_tasks with at most pieces_per_thread ranges per thread (>= 1).
int64_t parallel_tasks_in_pieces(int64_t count, int64_t work_per_task, int64_t pieces_per_thread,
                                 const std::function<int64_t(int64_t, int64_t)>& fn);

// Scratch memory owned by the calling thread and kept for its next calls, so that a kernel's
// temporary buffers are neither allocated nor first touched (page faults) on every call: a fresh
// ~450 KB buffer per call and a vector per task were a measurable part of a 100 us conv. One
// buffer per slot and thread; a kernel gives each buffer it holds at once its own slot (a
// calling thread runs tasks too, so its call-wide buffer and its task buffers must differ).
enum class ScratchSlot {
  kCallInput,
  kTaskSums,
  kTaskPacked,
  kTaskColumnSums,
  kCallPixelRows,  // conv2d.cc conv_as_matmul: the channels-last input, the pixels' rows, the outputs
  kCallPixelOutputs,
  kCount
};

// Above this many bytes a request gets a buffer for this use only (freed by the next request of
// the slot), so that one huge layer does not pin its memory to the thread for the process's life.
constexpr int64_t kScratchKeepBytes = int64_t(16) << 20;

// At least `bytes` bytes, 64-byte aligned, uninitialized, valid until the next request of the
// same slot on the same thread (or the thread's exit).
void* thread_scratch(ScratchSlot slot, int64_t bytes);

}  // namespace fxsim
