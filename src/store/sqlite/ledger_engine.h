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
//
// store::SqliteLedgerEngine is the ledger's write engine on SQLite: a
// SqliteConnectionPool<SqliteLedgerConnection> to lend for reads, plus the writer connection, the
// group commit and the turns. store::SqlitePaymentsPool is the payments face's: a
// SqliteConnectionPool of PaymentsConnections, nothing more.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "crebito_limits.h"
#include "store/pool_lease.h"
#include "store/sqlite/group_commit.h"
#include "store/sqlite/ledger_connection.h"
#include "store/sqlite/payments_connection.h"

namespace store {

// C is SqliteLedgerConnection or SqlitePaymentsConnection (explicitly instantiated in
// ledger_engine.cpp). It provides open(options, writer_lock, error, fault_log), file_moved() and
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

// The ledger's pool. A WriterLock::Turn: a turn holds the writer lock through lock_for_turn(this),
// and the lock calls hand_over() when the same thread asks for it again.
class SqliteLedgerEngine final : private WriterLock::Turn {
 public:
  using Lease = SqliteConnectionPool<SqliteLedgerConnection>::Lease;

  // Opens `size` connections to lend and the writer (schema must already be applied). nullptr and
  // *error on failure.
  static std::unique_ptr<SqliteLedgerEngine> open(const Options& options, int size,
                                                  std::string* error);

  Lease acquire() { return connections_->acquire(); }

  // Applies one posting, committed together with the postings other threads of this process are
  // posting at the same moment (group commit): the first queued thread takes the writer lock, then
  // commits everything queued by then, in order, on the pool's writer connection, and hands each
  // follower its own outcome. With no one else waiting, it is one transaction of one posting.
  // Same outcomes as SqliteLedgerConnection::post(), a failure's message included (the leader's,
  // for a follower). Needs no leased connection.
  Status post(const Posting& posting, AccountRow* after);

  // Reads a statement (SqliteLedgerConnection::read_statement) on a lent connection, or, during a
  // turn whose transaction is open, inside that transaction.
  Status read_statement(int64_t account_id, size_t entries_max, AccountRow* account,
                        std::vector<EntryRow>* entries);

  // Turns (one per wake-up of an event-loop thread, http/event_loop.h). Between begin_turn() and
  // end_turn() the calling thread's postings go into one write transaction, opened (writer lock,
  // BEGIN IMMEDIATE) at the first of them and committed by end_turn(); a statement read while it
  // is open is read inside it. So a wake-up that serves many debits takes the lock, revalidates
  // the page cache and writes the WAL once. Each posting keeps its own outcome (a refused one
  // writes nothing), but none is durable before end_turn(): answers must wait for it.
  //   - end_turn() returns false when the turn's transaction did not commit: every request that
  //     used it (answered_from_turn()) must be answered 503 instead; nothing of it was written.
  //     A posting that meets a failure itself returns unavailable at once, as outside a turn.
  //   - answered_from_turn(): whether the request served since the last call used the turn's
  //     transaction (a posting, refused or not, or a statement read inside it). Clears the flag.
  //   - If the same thread needs the writer lock for another write during the turn (the payments
  //     store: an accept of its own turn, a purge), the turn's transaction is committed first and
  //     the turn's later postings each commit on their own: the turn holds the lock through
  //     WriterLock::lock_for_turn(), and the other write's lock() calls hand_over(). The other
  //     way round too: a posting whose lock_for_turn() had to hand the payments store's turn over
  //     commits on its own, as do the turn's later postings. So a wake-up has at most one turn
  //     transaction, whichever face opened it, and end_turn() of each store speaks for its own.
  // One turn at a time per thread. Postings of other threads are not affected.
  void begin_turn();
  bool end_turn();
  bool answered_from_turn();

 private:
  explicit SqliteLedgerEngine(
      std::unique_ptr<SqliteConnectionPool<SqliteLedgerConnection>> connections)
      : connections_(std::move(connections)),
        writer_lock_(connections_->writer_lock()),
        writer_(connections_->kept(0)),
        group_commit_(writer_lock_, limits::write_batch_max) {}
  struct TurnState;
  static thread_local TurnState turn_;
  Status post_in_turn(const Posting& posting, AccountRow* after);
  void close_turn_transaction();  // Commits the open turn transaction, unlocks.
  void hand_over() override;      // WriterLock::Turn: close_turn_transaction(), stop batching.
  void lose_turn_transaction();   // After a failure rolled it back: marks the turn lost, unlocks.

  const std::unique_ptr<SqliteConnectionPool<SqliteLedgerConnection>> connections_;
  WriterLock* const writer_lock_;  // connections_'s.
  // The writer connection: never lent, used by the group commit's leader (or a turn that holds the
  // writer lock) only, so its page cache survives its own commits (SQLite drops a connection's
  // cache whenever another connection has written). Replaced (connections_->refresh) by that
  // thread only.
  SqliteLedgerConnection* writer_;

  // A thread's posting in the group commit (thread_local, see group_commit.h).
  struct QueuedWrite : GroupCommit::Entry {
    SqliteLedgerConnection::Write write;
  };
  GroupCommit group_commit_;
};

}  // namespace store
