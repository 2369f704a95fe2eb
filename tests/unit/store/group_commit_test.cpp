// store::GroupCommit: every queued entry is committed exactly once, by one leader at a time under
// the writer lock, in batches of at most batch_max that start with the leader's own entry.
#include "store/sqlite/group_commit.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.h"

namespace {

struct CountedEntry : store::GroupCommit::Entry {
  int thread = 0;
  int sequence = 0;
  int committed_times = 0;  // Written by the leader that committed it, read by its owner after.
};

}  // namespace

TEST_CASE("group commit commits each entry once, one leader at a time, in bounded batches") {
  TempDir dir;
  std::string error;
  std::shared_ptr<store::WriterLock> writer_lock =
      store::WriterLock::open(dir.file("crebito.db"), &error);
  REQUIRE(writer_lock);
  constexpr size_t batch_max = 4;
  constexpr int threads = 8;
  constexpr int per_thread = 2000;
  constexpr auto commit_time_until_batched = std::chrono::microseconds(50);
  store::GroupCommit group_commit(writer_lock.get(), batch_max);

  std::mutex seen_mutex;
  std::set<std::pair<int, int>> seen;  // (thread, sequence) of every committed entry.
  int inside = 0;                      // Commits running right now; must never exceed 1.
  int max_inside = 0;
  size_t largest_batch = 0;
  int batches = 0;
  bool leader_first = true;
  std::atomic<int> not_once{0};  // Entries whose owner saw them committed other than once.

  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      thread_local CountedEntry mine;
      for (int i = 0; i < per_thread; ++i) {
        mine.thread = t;
        mine.sequence = i;
        mine.committed_times = 0;
        group_commit.submit(&mine, [&](store::GroupCommit::Entry* const* entries, size_t count) {
          std::lock_guard<std::mutex> lock(seen_mutex);
          max_inside = std::max(max_inside, ++inside);
          largest_batch = std::max(largest_batch, count);
          ++batches;
          leader_first = leader_first && entries[0] == &mine;
          for (size_t k = 0; k < count; ++k) {
            auto* entry = static_cast<CountedEntry*>(entries[k]);
            ++entry->committed_times;
            seen.emplace(entry->thread, entry->sequence);
          }
          // A commit takes no time here: on a busy machine one thread may run all its submits in
          // one time slice and no one ever queues behind it. Until a batch has formed, a commit
          // lasts as long as a short real one, so that the other threads queue meanwhile.
          if (largest_batch < 2) std::this_thread::sleep_for(commit_time_until_batched);
          --inside;
        });
        // Catch2's assertions are not thread-safe: count here, check on the main thread.
        if (mine.committed_times != 1) ++not_once;
      }
    });
  }
  for (std::thread& worker : workers) worker.join();

  CHECK(not_once == 0);
  CHECK(seen.size() == static_cast<size_t>(threads * per_thread));
  CHECK(max_inside == 1);
  CHECK(largest_batch <= batch_max);
  CHECK(leader_first);
  // With 8 threads queueing behind each leader, some commits carry more than one entry.
  CHECK(batches < threads * per_thread);
}
