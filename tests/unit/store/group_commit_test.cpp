// store::GroupCommit: every queued entry is committed exactly once, by one leader at a time under
// the writer lock, in batches of at most batch_max that start with the leader's own entry.
#include "store/sqlite/group_commit.h"

#include <array>
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

// A database file's writer lock, for the group commits under test.
struct LockedFile {
  LockedFile() { REQUIRE(writer_lock); }
  TempDir dir;
  std::string error;
  std::shared_ptr<store::WriterLock> writer_lock =
      store::WriterLock::open(dir.file("crebito.db"), &error);
};

}  // namespace

TEST_CASE_METHOD(LockedFile,
                 "group commit commits each entry once, one leader at a time, in bounded batches") {
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
  // How many entries a commit carries is up to the scheduler here (on a loaded machine every
  // entry may go alone); the next case makes entries queue behind a leader on purpose.
  CHECK(batches <= threads * per_thread);
}

TEST_CASE_METHOD(LockedFile, "group commit: entries queued behind a busy leader go in one commit") {
  constexpr size_t batch_max = 8;
  constexpr int followers = 3;
  // The first leader stays in its commit until every follower is about to queue, and then this
  // long, so that they are queued when it leaves. A round where a follower was still not queued
  // (a thread descheduled that long) is run again, at most rounds_max times.
  constexpr auto queue_settle = std::chrono::milliseconds(20);
  constexpr int rounds_max = 20;
  store::GroupCommit group_commit(writer_lock.get(), batch_max);

  size_t largest_batch = 0;
  for (int round = 0; round < rounds_max && largest_batch < followers; ++round) {
    std::array<CountedEntry, followers + 1> entries;  // Outlive every wake-up: joined below.
    std::atomic<int> announced{0};
    std::atomic<bool> first_commit{true};
    std::mutex batch_mutex;
    auto commit = [&](store::GroupCommit::Entry* const*, size_t count) {
      if (first_commit.exchange(false)) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (announced.load() < followers && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::yield();
        }
        std::this_thread::sleep_for(queue_settle);
      }
      std::lock_guard<std::mutex> lock(batch_mutex);
      largest_batch = std::max(largest_batch, count);
    };
    std::thread leader([&] { group_commit.submit(&entries[0], commit); });
    while (first_commit.load()) std::this_thread::yield();  // The leader is in its commit.
    std::vector<std::thread> queued;
    for (int f = 0; f < followers; ++f) {
      queued.emplace_back([&, f] {
        announced.fetch_add(1);
        group_commit.submit(&entries[f + 1], commit);
      });
    }
    leader.join();
    for (std::thread& thread : queued) thread.join();
  }
  CHECK(largest_batch == followers);
}
