// store::GroupCommit is the queue of a group commit (LevelDB's writer queue), for any kind of
// write.
//
// Threads that want a write committed queue an Entry. The one at the front is the leader: it takes
// the process's WriterLock, then commits every entry queued by then (at most batch_max, in queue
// order) in one transaction, through the caller's function, which records each entry's own
// outcome in it; it then wakes each follower and the next leader. While the other process holds
// the lock, writes queue up here and go in together: one transaction's fixed costs (locks, page
// reads after the other process wrote, WAL frames, the commit) are shared.
//
// A follower sleeps on a futex word in its own entry, never on the queue's mutex, and the leader
// wakes followers after releasing everything, so a woken follower runs at once. A thread that
// holds the writer lock for a turn (WriterLock::lock_for_turn) hands it over before it queues:
// as a follower it would wait for a leader that waits for that lock.
//
// Thread-safe. An Entry must outlive any wake-up a leader may still send after its owner has seen
// its outcome and returned: callers keep one thread_local entry per thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

#include "store/sqlite/writer_lock.h"

namespace store {

class GroupCommit {
 public:
  struct Entry {
    enum Turn : uint32_t { waiting, done, lead };
    std::atomic<uint32_t> turn{waiting};
    void wait();         // Until turn != waiting.
    void wake(Turn to);  // Sets turn and wakes the owner.
  };

  // Commits entries[0..count) in one transaction and records each one's outcome in it; the writer
  // lock is held. entries[0] is the leader's own entry.
  using CommitFn = std::function<void(Entry* const* entries, size_t count)>;

  // REQUIRES: writer_lock outlives this object; batch_max >= 1.
  GroupCommit(WriterLock* writer_lock, size_t batch_max);

  // Queues `mine` and returns once it has been committed, by this thread as the leader or by
  // another one. `commit` is called only on the leader's thread.
  void submit(Entry* mine, const CommitFn& commit);

 private:
  WriterLock* const writer_lock_;
  const size_t batch_max_;
  std::mutex mutex_;          // Held only to push and pop, never while committing or waiting.
  std::deque<Entry*> queue_;  // Guarded by mutex_; the front one is the leader.
};

}  // namespace store
