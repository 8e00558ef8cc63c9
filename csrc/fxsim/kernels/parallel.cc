// See parallel.h. The worker threads are started once, on the first call that needs them, and
// then wait on a condition variable between calls: starting and joining threads on every call
// cost 20-40 us, a third of a 1M-element requantization.
#include "fxsim/kernels/parallel.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "fxsim/kernels/dispatch.h"

namespace fxsim {
namespace {

// A fixed set of workers that run the tasks 1..n-1 of one parallel_tasks call at a time (the
// caller runs task 0). One call at a time: a second caller (another Python thread, the GIL
// being released) that finds the pool busy starts its own threads instead of waiting.
class WorkerPool {
 public:
  // Runs fn(t) for every t in [0, tasks): the tasks are cut into one contiguous block per
  // participant (the caller is participant 0, pool thread i is i + 1); each takes its own
  // block's tasks in order and then, its block done, the others' that are left, so a worker
  // that the OS does not schedule (the machine is shared) delays nothing: the caller takes its
  // tasks. Own blocks first make the split the same from one call to the next when the threads
  // keep pace, so a thread meets the columns (input, output) it touched in the previous call
  // in its own core's cache instead of the other core's (1x1 conv 144 -> 24 at 56 x 56: the
  // worker's tasks ran ~20% slower than the caller's with tasks handed out in turn). Returns
  // when all are done; false (nothing run) when the pool is in use by another caller.
  bool run(int64_t workers, int64_t tasks, const std::function<void(int64_t)>& fn) {
    std::unique_lock<std::mutex> call_lock(call_mutex_, std::try_to_lock);
    if (!call_lock.owns_lock()) return false;
    grow(workers);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = &fn;
      blocks_ = std::min<int64_t>({workers + 1, kMaxBlocks, tasks});
      for (int64_t b = 0; b < blocks_; ++b) {
        block_next_[b] = tasks * b / blocks_;
        block_end_[b] = tasks * (b + 1) / blocks_;
      }
      untaken_ = tasks;
      pending_.store(tasks, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
    }
    work_ready_.notify_all();
    {
      std::unique_lock<std::mutex> lock(mutex_);
      take_tasks(lock, 0);
    }
    // Spin a while before sleeping: waking a sleeping thread costs tens of microseconds on a
    // virtual machine (the idle vCPU halts), as much as a whole small kernel.
    spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; });
    std::unique_lock<std::mutex> lock(mutex_);
    all_done_.wait(lock, [this] { return pending_.load(std::memory_order_relaxed) == 0; });
    task_ = nullptr;
    return true;
  }

 private:
  void grow(int64_t workers) {
    while (static_cast<int64_t>(threads_.size()) < workers) {
      const int64_t participant = static_cast<int64_t>(threads_.size()) + 1;  // the caller is 0
      threads_.emplace_back([this, participant] { work(participant); });
      threads_.back().detach();  // lives as long as the process (the pool is never destroyed)
    }
  }

  void work(int64_t participant) {
    uint64_t seen = 0;
    for (;;) {
      // spin (without the lock) for the next call, then sleep on the condition variable
      spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; });
      std::unique_lock<std::mutex> lock(mutex_);
      work_ready_.wait(lock, [&] { return generation_.load(std::memory_order_relaxed) != seen && untaken_ > 0; });
      seen = generation_.load(std::memory_order_relaxed);
      take_tasks(lock, participant);
    }
  }

  // Runs tasks until none is left (lock held on entry and exit): the participant's own block
  // first, then the next blocks in turn (a pool thread past the blocks only takes others').
  void take_tasks(std::unique_lock<std::mutex>& lock, int64_t participant) {
    for (int64_t i = 0; untaken_ > 0; ++i) {
      const int64_t b = (participant + i) % blocks_;
      while (block_next_[b] < block_end_[b]) {
        const int64_t t = block_next_[b]++;
        --untaken_;
        const std::function<void(int64_t)>* task = task_;
        lock.unlock();
        (*task)(t);
        lock.lock();
        if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) all_done_.notify_one();
      }
    }
  }

  // Busy-wait up to kSpinTime for done() to hold (a relaxed poll; the callers re-check under
  // the mutex). OpenMP runtimes spin likewise before blocking (KMP_BLOCKTIME). For the first
  // kTightSpinTime the poll is a plain loop of loads: the caller waiting for the worker's last
  // range, and the worker waiting for the next call of a layer-by-layer run, see the change
  // within nanoseconds (1x1 144 -> 24 at 56 x 56 on 2 threads, alternated runs: 17.1 -> 16.4 us).
  // After it each poll is a sched_yield, which leaves the core to other threads. Not a pause
  // instruction: polls a pause apart were tried and woke ~0.2 us sooner than yields, but on this
  // virtual machine they made 2 threads slower than 1 on the avx512bw classifier (median 18.7 ->
  // 33.6 us against 30 on one thread): a vCPU looping on pause is what a hypervisor's pause-loop
  // exiting deschedules.
  template <class Done>
  static void spin_until(Done done) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; !done(); ++i) {
      if ((i & 63) == 63 && std::chrono::steady_clock::now() > start + kTightSpinTime) break;
    }
    for (int i = 0; !done(); ++i) {
      if ((i & 255) == 255 && std::chrono::steady_clock::now() > start + kSpinTime) return;
      std::this_thread::yield();
    }
  }

  std::mutex call_mutex_;  // one parallel_tasks call at a time
  std::mutex mutex_;       // guards everything below
  std::condition_variable work_ready_, all_done_;
  static constexpr std::chrono::microseconds kSpinTime{2000}, kTightSpinTime{10};
  static constexpr int64_t kMaxBlocks = 64;  // participants past this only take others' blocks
  const std::function<void(int64_t)>* task_ = nullptr;
  int64_t blocks_ = 0, untaken_ = 0;
  int64_t block_next_[kMaxBlocks] = {}, block_end_[kMaxBlocks] = {};  // block b: tasks [next, end) left
  std::atomic<int64_t> pending_{0};
  std::atomic<uint64_t> generation_{0};
  std::vector<std::thread> threads_;
};

// The process's pool, created on first use and never destroyed (detached workers may still be
// waiting at exit). After fork() the child has none of the parent's threads: it gets a fresh
// pool, and the old one (whose mutexes may be held by vanished threads) is leaked on purpose.
WorkerPool* g_pool = nullptr;
std::once_flag g_atfork_once;

WorkerPool& pool() {
  std::call_once(g_atfork_once, [] { pthread_atfork(nullptr, nullptr, [] { g_pool = nullptr; }); });
  static std::mutex create_mutex;
  std::lock_guard<std::mutex> lock(create_mutex);
  if (g_pool == nullptr) g_pool = new WorkerPool();
  return *g_pool;
}

// Fallback for a caller that finds the pool busy: `workers` threads for this call only, all
// taking tasks from one counter with the caller.
void run_with_new_threads(int64_t workers, int64_t tasks, const std::function<void(int64_t)>& fn) {
  std::atomic<int64_t> next{0};
  auto take = [&] {
    for (int64_t t = next.fetch_add(1); t < tasks; t = next.fetch_add(1)) fn(t);
  };
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(workers));
  for (int64_t w = 0; w < workers; ++w) threads.emplace_back(take);
  take();
  for (auto& t : threads) t.join();
}

// A thread's scratch buffers (thread_scratch): capacity only grows, up to kScratchKeepBytes.
struct AlignedFree {
  void operator()(void* p) const { ::operator delete(p, std::align_val_t(64)); }
};
struct ScratchBuffer {
  std::unique_ptr<void, AlignedFree> data;
  int64_t bytes = 0;
};
thread_local ScratchBuffer t_scratch[static_cast<int>(ScratchSlot::kCount)];

}  // namespace

void* thread_scratch(ScratchSlot slot, int64_t bytes) {
  ScratchBuffer& buffer = t_scratch[static_cast<int>(slot)];
  const bool fits = bytes <= buffer.bytes && buffer.bytes <= kScratchKeepBytes;
  if (!fits) {
    // (a buffer over the limit is dropped at the slot's next request, whatever its size)
    const int64_t grown =
        bytes > kScratchKeepBytes ? bytes : std::max(bytes, std::min(2 * buffer.bytes, kScratchKeepBytes));
    buffer.data.reset();  // the old one goes first: peak memory is one buffer per slot
    buffer.data.reset(::operator new(static_cast<size_t>(std::max<int64_t>(grown, 64)), std::align_val_t(64)));
    buffer.bytes = grown;
  }
  return buffer.data.get();
}

int64_t parallel_tasks(int64_t count, int64_t work_per_task, const std::function<int64_t(int64_t, int64_t)>& fn) {
  return parallel_tasks_in_pieces(count, work_per_task, kPiecesPerThread, fn);
}

int64_t parallel_tasks_in_pieces(int64_t count, int64_t work_per_task, int64_t pieces_per_thread,
                                 const std::function<int64_t(int64_t, int64_t)>& fn) {
  if (count <= 0) return -1;
  const int threads = kernel_threads();
  const int64_t work = work_per_task > 0 && count > INT64_MAX / work_per_task ? INT64_MAX : count * work_per_task;
  const int64_t n = std::min<int64_t>(threads, count);
  if (n <= 1 || work < kParallelMinWork) return fn(0, count);
  // More pieces than threads, each thread's block of them taken first by that thread: a thread
  // the OS does not run at the moment (other processes on the machine) leaves its pieces to the
  // others.
  const int64_t pieces = std::min<int64_t>(count, n * std::max<int64_t>(1, pieces_per_thread));
  std::vector<int64_t> bad(static_cast<size_t>(pieces), -1);
  const std::function<void(int64_t)> task = [&](int64_t t) {
    bad[t] = fn(count * t / pieces, count * (t + 1) / pieces);
  };
  if (!pool().run(n - 1, pieces, task)) run_with_new_threads(n - 1, pieces, task);
  int64_t first = -1;
  for (const int64_t b : bad) {
    if (b >= 0 && (first < 0 || b < first)) first = b;
  }
  return first;
}

}  // namespace fxsim
