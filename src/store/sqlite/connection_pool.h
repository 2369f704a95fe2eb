// store::SqliteConnectionPool<C> holds a fixed set of connections of one kind
// (store::SqliteLedgerConnection for the ledger, store::SqlitePaymentsConnection for the payments
// face) for one process and lends them to request threads. Thread-safe. With one connection per
// thread that may borrow, acquire() never waits in practice; if it must, it waits on a condition
// variable, never spins.
//
// A connection whose file was removed or replaced (file_moved(), store/sqlite/database.h) is
// replaced by a fresh one when it is next lent, once a database is back at the path; attempts are
// at most one per limits::store_reopen_interval_ms, so a lasting fault costs requests one stat()
// each, not an open. Lending checks for a moved file only while the pool's fault log reports
// failures, or while connections opened before a replacement are still in use: a moved file makes
// every operation fail, and a healthy store then costs no stat() at lending.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/fault_log.h"
#include "store/pool_lease.h"
#include "store/sqlite/database.h"
#include "store/sqlite/writer_lock.h"

namespace store {

class SqliteLedgerConnection;
class SqlitePaymentsConnection;

// C is SqliteLedgerConnection or SqlitePaymentsConnection (explicitly instantiated in
// connection_pool.cpp). It provides open(options, writer_lock, error, fault_log), file_moved() and
// holds_data().
template <class C>
class SqliteConnectionPool {
 public:
  // A connection on loan; returned to the pool when the Lease is destroyed.
  using Lease = PoolLease<SqliteConnectionPool, C>;

  // Opens `size` connections to lend and `kept` more that are never lent (kept(i) gives them to
  // the owner, e.g. the ledger's writer connection); the schema must already be applied. Their
  // writes take the process's WriterLock for options.path. nullptr and *error on failure.
  static std::unique_ptr<SqliteConnectionPool> open(const Options& options, int size, int kept,
                                                    std::string* error);

  Lease acquire() { return Lease(this, borrow()); }

  // acquire() and the Lease's return, for an owner that lends through a lease of its own
  // (store::SqlitePaymentsStore): every borrow() is matched by one give_back().
  C* borrow();
  void give_back(C* connection) { release(connection); }

  C* kept(int index) const;

  // For a kept connection, by the one thread that uses it: `connection`, or a fresh connection in
  // its place when its file moved and a database is back at the path.
  C* refresh(C* connection);

  WriterLock* writer_lock() const { return writer_lock_.get(); }

 private:
  friend Lease;
  SqliteConnectionPool(const Options& options, std::shared_ptr<WriterLock> writer_lock, int kept)
      : options_(options), writer_lock_(std::move(writer_lock)), kept_(kept) {}

  void release(C* connection);
  // Called by the thread that holds `connection` (on loan, or kept). Returns a fresh connection in
  // its place when one can be opened, else `connection` itself.
  C* reopen(C* connection);
  bool may_have_moved() const {
    return fault_log_.failing() || stale_connections_.load(std::memory_order_relaxed) > 0;
  }

  const Options options_;
  // Shared by every connection of this pool and with the other processes (writer_lock.h).
  std::shared_ptr<WriterLock> writer_lock_;
  const int kept_;
  FaultLog fault_log_;
  std::atomic<int64_t> next_reopen_us_{0};
  // Connections still open on a file that was removed or replaced, counted when the first of them
  // was replaced; guarded by free_mutex_ for writes. While it is above 0, or while the fault log
  // reports failures, a connection checks its file (one stat()) before it is used.
  std::atomic<int> stale_connections_{0};

  // Guarded by free_mutex_ (a slot changes only when its connection is replaced by reopen()).
  // The first kept_ are the kept connections.
  std::vector<std::unique_ptr<C>> connections_;

  std::mutex free_mutex_;
  std::condition_variable free_changed_;
  std::vector<C*> free_;  // Guarded by free_mutex_.
};

extern template class SqliteConnectionPool<SqliteLedgerConnection>;
extern template class SqliteConnectionPool<SqlitePaymentsConnection>;

// The payments face's connections (store::SqlitePaymentsStore lends them).
using SqlitePaymentsPool = SqliteConnectionPool<SqlitePaymentsConnection>;

}  // namespace store
