#include "store/sqlite/group_commit.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "check.h"

namespace store {

void GroupCommit::Entry::wait() {
  static_assert(sizeof(turn) == sizeof(uint32_t) && std::atomic<uint32_t>::is_always_lock_free);
  while (turn.load(std::memory_order_acquire) == waiting) {
    // Returns at once if turn is no longer `waiting`; EINTR and spurious wake-ups loop.
    ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&turn), FUTEX_WAIT_PRIVATE, waiting, nullptr,
              nullptr, 0);
  }
}

void GroupCommit::Entry::wake(Turn to) {
  turn.store(to, std::memory_order_release);
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&turn), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr,
            0);
}

GroupCommit::GroupCommit(WriterLock* writer_lock, size_t batch_max)
    : writer_lock_(writer_lock), batch_max_(batch_max) {
  CREBITO_ASSERT(writer_lock != nullptr);
  CREBITO_ASSERT(batch_max >= 1);
}

void GroupCommit::submit(Entry* mine, const CommitFn& commit) {
  // A follower waits for its leader, and the leader for the writer lock: a thread that holds the
  // lock for a turn (the other face's store, writer_lock.h) lets go of it first.
  static_cast<void>(writer_lock_->hand_over_turn());
  bool leading;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    mine->turn.store(Entry::waiting, std::memory_order_relaxed);
    queue_.push_back(mine);
    leading = queue_.front() == mine;
  }
  if (!leading) {
    mine->wait();
    if (mine->turn.load(std::memory_order_acquire) == Entry::done) return;
  }
  // Take the writer lock first, then commit what is queued by then, front (this thread) first:
  // while the other process held the lock, more writes queued behind this one.
  thread_local std::vector<Entry*> batch;
  {
    std::lock_guard<WriterLock> writer(*writer_lock_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      CREBITO_ASSERT(queue_.front() == mine);
      batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(
                                                        std::min(queue_.size(), batch_max_)));
    }
    commit(batch.data(), batch.size());
  }
  Entry* next;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (Entry* entry : batch) {
      CREBITO_ASSERT(queue_.front() == entry);
      queue_.pop_front();
    }
    next = queue_.empty() ? nullptr : queue_.front();
  }
  // Outside the mutex: a woken follower runs at once instead of blocking on it.
  for (size_t i = 1; i < batch.size(); ++i) batch[i]->wake(Entry::done);
  if (next != nullptr) next->wake(Entry::lead);
}

}  // namespace store
