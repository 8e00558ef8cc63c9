// See parallel.h.
#include "fxsim/kernels/parallel.h"

#include <algorithm>
#include <thread>
#include <vector>

#include "fxsim/kernels/dispatch.h"

namespace fxsim {

int64_t parallel_tasks(int64_t count, int64_t work_per_task, const std::function<int64_t(int64_t, int64_t)>& fn) {
  if (count <= 0) return -1;
  const int threads = kernel_threads();
  const int64_t work = work_per_task > 0 && count > INT64_MAX / work_per_task ? INT64_MAX : count * work_per_task;
  const int64_t n = std::min<int64_t>(threads, count);
  if (n <= 1 || work < kParallelMinWork) return fn(0, count);
  std::vector<int64_t> bad(static_cast<size_t>(n), -1);
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(n - 1));
  for (int64_t t = 1; t < n; ++t) {
    workers.emplace_back([&, t] { bad[t] = fn(count * t / n, count * (t + 1) / n); });
  }
  bad[0] = fn(0, count / n);
  for (auto& w : workers) w.join();
  int64_t first = -1;
  for (const int64_t b : bad) {
    if (b >= 0 && (first < 0 || b < first)) first = b;
  }
  return first;
}

}  // namespace fxsim
