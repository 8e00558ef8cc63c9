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

// Pieces per thread of one parallel_tasks call (see there).
constexpr int64_t kPiecesPerThread = 4;

// A fixed set of workers that run the tasks 1..n-1 of one parallel_tasks call at a time (the
// caller runs task 0). One call at a time: a second caller (another Python thread, the GIL
// being released) that finds the pool busy starts its own threads instead of waiting.
class WorkerPool {
 public:
  // Runs fn(t) for every t in [0, tasks): `workers` pool threads and the caller take tasks from
  // one counter (the caller starts with task 0), so a worker that the OS does not schedule
  // (the machine is shared) delays nothing: the caller takes its tasks. Returns when all are
  // done; false (nothing run) when the pool is in use by another caller.
  bool run(int64_t workers, int64_t tasks, const std::function<void(int64_t)>& fn) {
    std::unique_lock<std::mutex> call_lock(call_mutex_, std::try_to_lock);
    if (!call_lock.owns_lock()) return false;
    grow(workers);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = &fn;
      tasks_ = tasks;
      next_ = 1;
      pending_.store(tasks - 1, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
    }
    work_ready_.notify_all();
    fn(0);
    {
      std::unique_lock<std::mutex> lock(mutex_);
      take_tasks(lock);
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
      threads_.emplace_back([this] { work(); });
      threads_.back().detach();  // lives as long as the process (the pool is never destroyed)
    }
  }

  void work() {
    uint64_t seen = 0;
    for (;;) {
      // spin (without the lock) for the next call, then sleep on the condition variable
      spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; });
      std::unique_lock<std::mutex> lock(mutex_);
      work_ready_.wait(lock, [&] { return generation_.load(std::memory_order_relaxed) != seen && next_ < tasks_; });
      seen = generation_.load(std::memory_order_relaxed);
      take_tasks(lock);
    }
  }

  // Runs tasks from the shared counter until none is left (lock held on entry and exit).
  void take_tasks(std::unique_lock<std::mutex>& lock) {
    while (next_ < tasks_) {
      const int64_t t = next_++;
      const std::function<void(int64_t)>* task = task_;
      lock.unlock();
      (*task)(t);
      lock.lock();
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) all_done_.notify_one();
    }
  }

  // Busy-wait up to kSpinTime for done() to hold (a relaxed poll; the callers re-check under
  // the mutex). OpenMP runtimes spin likewise before blocking (KMP_BLOCKTIME).
  template <class Done>
  static void spin_until(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
    for (int i = 0; !done(); ++i) {
      if ((i & 255) == 255 && std::chrono::steady_clock::now() > deadline) return;
      std::this_thread::yield();
    }
  }

  std::mutex call_mutex_;  // one parallel_tasks call at a time
  std::mutex mutex_;       // guards everything below
  std::condition_variable work_ready_, all_done_;
  static constexpr std::chrono::microseconds kSpinTime{2000};
  const std::function<void(int64_t)>* task_ = nullptr;
  int64_t tasks_ = 0, next_ = 0;
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
    const int64_t grown = bytes > kScratchKeepBytes ? bytes : std::max(bytes, std::min(2 * buffer.bytes, kScratchKeepBytes));
    buffer.data.reset();  // the old one goes first: peak memory is one buffer per slot
    buffer.data.reset(::operator new(static_cast<size_t>(std::max<int64_t>(grown, 64)), std::align_val_t(64)));
    buffer.bytes = grown;
  }
  return buffer.data.get();
}

int64_t parallel_tasks(int64_t count, int64_t work_per_task, const std::function<int64_t(int64_t, int64_t)>& fn) {
  if (count <= 0) return -1;
  const int threads = kernel_threads();
  const int64_t work = work_per_task > 0 && count > INT64_MAX / work_per_task ? INT64_MAX : count * work_per_task;
  const int64_t n = std::min<int64_t>(threads, count);
  if (n <= 1 || work < kParallelMinWork) return fn(0, count);
  // More pieces than threads, taken from a shared counter: a thread the OS does not run at
  // the moment (other processes on the machine) leaves its pieces to the others.
  const int64_t pieces = std::min<int64_t>(count, n * kPiecesPerThread);
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
