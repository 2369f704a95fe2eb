#include "store/sqlite/connection_pool.h"

#include "check.h"
#include "clock.h"
#include "crebito_limits.h"
#include "store/sqlite/ledger_connection.h"
#include "store/sqlite/payments_connection.h"

namespace store {

template <class C>
std::unique_ptr<SqliteConnectionPool<C>> SqliteConnectionPool<C>::open(const Options& options,
                                                                       int size, int kept,
                                                                       std::string* error) {
  CREBITO_ASSERT(size > 0);
  CREBITO_ASSERT(kept >= 0);
  std::shared_ptr<WriterLock> writer_lock = WriterLock::open(options.path, error);
  if (!writer_lock) return nullptr;
  std::unique_ptr<SqliteConnectionPool> pool(
      new SqliteConnectionPool(options, std::move(writer_lock), kept));
  for (int i = 0; i < kept + size; ++i) {
    std::unique_ptr<C> connection =
        C::open(options, pool->writer_lock_.get(), error, &pool->fault_log_);
    if (!connection) return nullptr;
    if (i >= kept) pool->free_.push_back(connection.get());
    pool->connections_.push_back(std::move(connection));
  }
  return pool;
}

template <class C>
C* SqliteConnectionPool<C>::borrow() {
  std::unique_lock<std::mutex> lock(free_mutex_);
  free_changed_.wait(lock, [this] { return !free_.empty(); });
  C* connection = free_.back();
  free_.pop_back();
  lock.unlock();
  return refresh(connection);
}

template <class C>
C* SqliteConnectionPool<C>::kept(int index) const {
  CREBITO_ASSERT(index >= 0 && index < kept_);
  return connections_[index].get();
}

template <class C>
C* SqliteConnectionPool<C>::refresh(C* connection) {
  // A moved file makes every operation fail (and say so in the fault log) until it is reopened;
  // checking only during such an episode spares each request a stat().
  if (may_have_moved() && connection->file_moved()) return reopen(connection);
  return connection;
}

template <class C>
C* SqliteConnectionPool<C>::reopen(C* connection) {
  const int64_t now_us = clocks::steady_us();
  int64_t next_us = next_reopen_us_.load();
  if (now_us < next_us || !next_reopen_us_.compare_exchange_strong(
                              next_us, now_us + int64_t{limits::store_reopen_interval_ms} * 1000)) {
    return connection;  // Another attempt was made recently, or is being made right now.
  }
  std::string error;
  std::unique_ptr<C> fresh = C::open(options_, writer_lock_.get(), &error, &fault_log_);
  if (!fresh) return connection;  // Still no usable database at the path; the old one says so.
  // Without CREATE, open() succeeds only on an existing file in WAL mode; it must hold our data.
  if (!fresh->holds_data()) return connection;
  C* replacement = fresh.get();
  std::unique_ptr<C> old;
  {
    std::lock_guard<std::mutex> lock(free_mutex_);
    for (std::unique_ptr<C>& slot : connections_) {
      if (slot.get() == connection) {
        old = std::move(slot);
        slot = std::move(fresh);
        break;
      }
    }
    // The other connections of this pool still hold the old file; each is checked and replaced
    // at its next use, also once the fault log says the fault is over (reads and writes may have
    // recovered through other connections), and the attempt interval does not apply to them.
    const int stale = stale_connections_.load();
    stale_connections_ = stale > 0 ? stale - 1 : static_cast<int>(connections_.size()) - 1;
  }
  CREBITO_ASSERT(old != nullptr);
  next_reopen_us_ = 0;
  return replacement;  // `old` closes here, keeping the restored -wal/-shm (see ~Database).
}

template <class C>
void SqliteConnectionPool<C>::release(C* connection) {
  {
    std::lock_guard<std::mutex> lock(free_mutex_);
    // Kept connections are never lent.
    CREBITO_ASSERT(free_.size() < connections_.size() - static_cast<size_t>(kept_));
    free_.push_back(connection);
  }
  free_changed_.notify_one();
}

template class SqliteConnectionPool<SqliteLedgerConnection>;
template class SqliteConnectionPool<SqlitePaymentsConnection>;

}  // namespace store
