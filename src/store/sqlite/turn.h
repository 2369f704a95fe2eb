// store::SqliteTurn<C> runs the turns of one SQLite store (the ledger's engine,
// store/sqlite/ledger_engine.h, or the payments store, store/sqlite/payments_store.h) on that
// store's writer connection: the first connection its SqliteConnectionPool<C> keeps, never lent.
//
// A turn is one wake-up of an event-loop thread (http/event_loop.h). Between begin() and end() the
// calling thread's writes to the store go into one write transaction on the writer connection,
// opened (writer lock, BEGIN IMMEDIATE) by the first of them and committed by end(). So a wake-up
// that serves many requests takes the lock, revalidates the page cache and writes the WAL once.
// Each write keeps its own outcome (a refused one writes nothing), but none is durable before
// end(): answers must wait for it.
//   - end() returns false when the turn's transaction did not commit: every request that used it
//     (answered_from()) must be answered 503 instead; nothing of it was written. A write that
//     meets a failure itself returns it at once, as outside a turn, and the turn's transaction is
//     lost with it (the connection rolled it back); the turn's later writes each go on their own.
//   - answered_from(): whether the request served since the last call used the turn's
//     transaction (a write, refused or not, or a read inside it). Clears the flag.
//   - The turn holds the writer lock through WriterLock::lock_for_turn(this). If the same thread
//     needs the lock for another write during the turn (the other face's store, a purge, a group
//     commit), the lock calls hand_over(): the turn's transaction commits there, and the turn's
//     later writes each go on their own. The other way round too: a write whose lock_for_turn()
//     had to hand another turn of this thread over goes on its own, as do this turn's later
//     writes. So a wake-up has at most one turn transaction, whichever store opened it, and end()
//     of each store's turn speaks for its own requests.
// "On their own" is the store's own path outside a turn (the ledger's group commit, the payments
// store's autocommit INSERT), passed to write() as `alone`.
//
// One turn at a time per thread; the state is the thread's own (thread_local), so turns of other
// threads, and their writes outside turns, are not affected.
//
// C is SqliteLedgerConnection or SqlitePaymentsConnection (explicitly instantiated in turn.cpp). It
// provides begin_write() and commit_write(); the `in_transaction` functions passed to write() and
// read() use its calls that run inside the open transaction.
#pragma once

#include "store/sqlite/connection_pool.h"
#include "store/sqlite/writer_lock.h"
#include "store/status.h"

namespace store {

template <class C>
class SqliteTurn final : private WriterLock::Turn {
 public:
  // REQUIRES: pool keeps at least one connection (kept(0) is the writer) and outlives this.
  explicit SqliteTurn(SqliteConnectionPool<C>* pool);
  SqliteTurn(const SqliteTurn&) = delete;
  SqliteTurn& operator=(const SqliteTurn&) = delete;

  void begin();
  bool end();
  bool answered_from();

  // Whether the calling thread's writes to this store go into its turn (between begin() and end(),
  // and the turn has not handed over or lost its transaction).
  bool takes_writes() const;

  // A write in the calling thread's turn. REQUIRES: takes_writes().
  //   - in_transaction(C* writer) -> Status runs inside the turn's transaction, opened first if
  //     this is the turn's first write. ok or refused: the request used the turn. Anything else:
  //     the connection rolled the transaction back, and the turn is lost.
  //   - alone() -> Status runs instead when taking the lock handed another turn of this thread
  //     over (see above); the store's path outside a turn.
  // A failure to open the transaction is returned as it is; nothing of the turn was written yet,
  // and the turn's next write tries again.
  template <class InTransaction, class Alone>
  Status write(const InTransaction& in_transaction, const Alone& alone) {
    bool handed_over = false;
    Status opened = open(&handed_over);
    if (handed_over) return alone();
    if (opened != Status::ok) return opened;
    return used(in_transaction(writer_));
  }

  // A read in the calling thread's turn, if its transaction is open: in_transaction(C* writer) ->
  // Status, with write()'s outcomes (a failure loses the turn), into *status; true. False when the
  // calling thread has no open transaction of this turn: the caller reads on a lent connection.
  template <class InTransaction>
  bool read(const InTransaction& in_transaction, Status* status) {
    if (!transaction_open()) return false;
    *status = used(in_transaction(writer_));
    return true;
  }

  // The writer connection, replaced first if its file moved (SqliteConnectionPool::refresh). For
  // the store's other writes on it (the ledger's group commit). REQUIRES: the calling thread holds
  // the writer lock, outside this turn's transaction.
  C* writer();

 private:
  struct State;
  static thread_local State state_;

  // Opens the turn's transaction if it is not: lock_for_turn(this), begin_write(). Sets
  // *handed_over (and stops taking writes) when the lock was taken from another turn of this
  // thread; the lock is then released again.
  Status open(bool* handed_over);
  bool transaction_open() const;
  // The outcome of a write or read inside the transaction: ok and refused mark the request as
  // answered from the turn; any other status loses the turn's transaction.
  Status used(Status status);
  void close();               // Commits the open transaction (a failure loses the turn), unlocks.
  void hand_over() override;  // WriterLock::Turn: close(), and stop taking writes.
  void lose();                // After the connection rolled the transaction back: lost, unlocks.

  SqliteConnectionPool<C>* const pool_;
  WriterLock* const writer_lock_;  // pool_'s.
  // Used by the writer lock's holder only (this turn, or the store's other writes), so its page
  // cache survives its own commits (SQLite drops a connection's cache whenever another connection
  // has written). Replaced (pool_->refresh) by that thread only.
  C* writer_;
};

extern template class SqliteTurn<SqliteLedgerConnection>;
extern template class SqliteTurn<SqlitePaymentsConnection>;

}  // namespace store
