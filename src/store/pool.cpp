#include "store/pool.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "check.h"
#include "crebito_limits.h"

namespace store {

std::unique_ptr<Pool> Pool::open(const Options& options, int size, std::string* error) {
  CREBITO_ASSERT(size > 0);
  std::unique_ptr<Pool> pool(new Pool(options));
  pool->writer_lock_ = WriterLock::open(options.path, error);
  if (!pool->writer_lock_) return nullptr;
  for (int i = 0; i <= size; ++i) {  // The writer, then `size` to lend.
    std::unique_ptr<Connection> connection =
        Connection::open(options, pool->writer_lock_.get(), error, &pool->fault_log_);
    if (!connection) return nullptr;
    if (i > 0) pool->free_.push_back(connection.get());
    pool->connections_.push_back(std::move(connection));
  }
  pool->writer_ = pool->connections_[0].get();
  return pool;
}

Pool::Lease Pool::acquire() {
  std::unique_lock<std::mutex> lock(free_mutex_);
  free_changed_.wait(lock, [this] { return !free_.empty(); });
  Connection* connection = free_.back();
  free_.pop_back();
  lock.unlock();
  // A moved file makes every operation fail (and say so in the fault log) until it is reopened;
  // checking only during such an episode spares each request a stat().
  if (fault_log_.failing() && connection->file_moved()) connection = reopen(connection);
  return Lease(this, connection);
}

Connection* Pool::reopen(Connection* connection) {
  using namespace std::chrono;
  const int64_t now_us =
      duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
  int64_t next_us = next_reopen_us_.load();
  if (now_us < next_us || !next_reopen_us_.compare_exchange_strong(
                              next_us, now_us + int64_t{limits::store_reopen_interval_ms} * 1000)) {
    return connection;  // Another attempt was made recently, or is being made right now.
  }
  std::string error;
  std::unique_ptr<Connection> fresh =
      Connection::open(options_, writer_lock_.get(), &error, &fault_log_);
  if (!fresh) return connection;  // Still no usable database at the path; the old one says so.
  // Without CREATE, open() succeeds only on an existing file in WAL mode; it must hold a ledger.
  std::vector<AccountRow> accounts;
  if (fresh->read_accounts(&accounts) != Status::ok || accounts.empty()) return connection;
  Connection* replacement = fresh.get();
  std::unique_ptr<Connection> old;
  {
    std::lock_guard<std::mutex> lock(free_mutex_);
    for (std::unique_ptr<Connection>& slot : connections_) {
      if (slot.get() == connection) {
        old = std::move(slot);
        slot = std::move(fresh);
        break;
      }
    }
  }
  CREBITO_ASSERT(old != nullptr);
  // The other connections of this process still hold the old file; each is replaced on its next
  // loan, so the attempt interval does not apply to them.
  next_reopen_us_ = 0;
  return replacement;  // `old` closes here, keeping the restored -wal/-shm (see ~Connection).
}

void Pool::QueuedWrite::wait() {
  static_assert(sizeof(turn) == sizeof(uint32_t) && std::atomic<uint32_t>::is_always_lock_free);
  while (turn.load(std::memory_order_acquire) == waiting) {
    // Returns at once if turn is no longer `waiting`; EINTR and spurious wake-ups loop.
    ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&turn), FUTEX_WAIT_PRIVATE, waiting, nullptr,
              nullptr, 0);
  }
}

void Pool::QueuedWrite::wake(Turn to) {
  turn.store(to, std::memory_order_release);
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&turn), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr,
            0);
}

Status Pool::post(const Posting& posting, AccountRow* after, std::string* error_text) {
  thread_local QueuedWrite mine;
  mine.write = {&posting, {}, Status::unavailable};
  mine.error_text.clear();
  bool leading;
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    mine.turn.store(QueuedWrite::waiting, std::memory_order_relaxed);
    queue_.push_back(&mine);
    leading = queue_.front() == &mine;
  }
  if (!leading) {
    mine.wait();
    leading = mine.turn.load(std::memory_order_acquire) == QueuedWrite::lead;
  }
  if (leading) {
    // Take the writer lock first, then commit what is queued by then, front (this thread) first:
    // while the other process held the lock, more postings queued behind this one.
    QueuedWrite* batch[limits::write_batch_max];
    Connection::Write* writes[limits::write_batch_max];
    size_t count;
    Status committed;
    if (fault_log_.failing() && writer_->file_moved()) writer_ = reopen(writer_);
    Connection& connection = *writer_;
    {
      std::lock_guard<WriterLock> writer(*writer_lock_);
      {
        std::lock_guard<std::mutex> lock(queue_mutex_);
        CREBITO_ASSERT(queue_.front() == &mine);
        count = std::min(queue_.size(), limits::write_batch_max);
        for (size_t i = 0; i < count; ++i) {
          batch[i] = queue_[i];
          writes[i] = &batch[i]->write;
        }
      }
      committed = connection.post_batch_holding_lock(writes, count);
    }
    if (committed != Status::ok) mine.error_text = connection.last_error();
    QueuedWrite* next;
    {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      for (size_t i = 0; i < count; ++i) {
        CREBITO_ASSERT(queue_.front() == batch[i]);
        queue_.pop_front();
      }
      next = queue_.empty() ? nullptr : queue_.front();
    }
    // Outside the mutex: a woken follower runs at once instead of blocking on it.
    for (size_t i = 1; i < count; ++i) {
      CREBITO_ASSERT(committed == Status::ok || batch[i]->write.status == committed);
      batch[i]->error_text = mine.error_text;
      batch[i]->wake(QueuedWrite::done);
    }
    if (next != nullptr) next->wake(QueuedWrite::lead);
  }
  if (mine.write.status == Status::ok) *after = mine.write.after;
  if (mine.write.status != Status::ok && mine.write.status != Status::refused) {
    *error_text = mine.error_text;
  }
  return mine.write.status;
}

void Pool::release(Connection* connection) {
  {
    std::lock_guard<std::mutex> lock(free_mutex_);
    CREBITO_ASSERT(free_.size() < connections_.size() - 1);  // The writer is never lent.
    free_.push_back(connection);
  }
  free_changed_.notify_one();
}

}  // namespace store
