// Runs count independent jobs on up to num_threads threads (this one included), each thread
// with its own scratch state: the batch APIs of the feature and descriptor computers.
#ifndef EDGESER_CSRC_PARALLEL_BATCH_H_
#define EDGESER_CSRC_PARALLEL_BATCH_H_

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace edgeser {

constexpr int kMaxBatchThreads = 256;

// make_state() -> S (per thread); job(i, S&) for every i < count. The first exception is
// rethrown after every thread has stopped; the other jobs are then skipped. If a thread cannot
// be started the running ones do its share.
template <typename MakeState, typename Job>
void RunParallelBatch(int count, int num_threads, MakeState make_state, Job job) {
  if (count <= 0) return;
  num_threads = std::max(1, std::min({num_threads, count, kMaxBatchThreads}));
  std::atomic<int> next{0};
  std::mutex error_mutex;
  std::exception_ptr error;
  auto work = [&]() {
    try {
      auto state = make_state();
      for (int i = next++; i < count; i = next++) job(i, state);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next = count;
    }
  };
  std::vector<std::thread> helpers;
  try {
    for (int t = 1; t < num_threads; ++t) helpers.emplace_back(work);
  } catch (const std::system_error&) {
    // Could not start another thread: the ones running (and this one) do all the work.
  }
  work();
  for (std::thread& h : helpers) h.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace edgeser

#endif  // EDGESER_CSRC_PARALLEL_BATCH_H_
