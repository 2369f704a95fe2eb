// store::SqliteLedgerEngine is the ledger's write engine on SQLite: a
// SqliteConnectionPool<SqliteLedgerConnection> (store/sqlite/connection_pool.h) to lend for reads,
// plus the writer connection, the group commit and the turns (store/sqlite/turn.h) on it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "crebito_limits.h"
#include "store/sqlite/connection_pool.h"
#include "store/sqlite/group_commit.h"
#include "store/sqlite/ledger_connection.h"
#include "store/sqlite/turn.h"

namespace store {

class SqliteLedgerEngine final {
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

  // Turns (store/sqlite/turn.h): between begin_turn() and end_turn() the calling thread's
  // postings go into its wake-up's one write transaction, and a statement read while it is open
  // is read inside it. None is durable before end_turn(): answers must wait for it. end_turn()
  // false: every request answered_from_turn() must be answered 503 instead. A posting that meets
  // a failure itself returns it at once, as outside a turn. If the payments store's turn on this
  // thread holds the writer lock, or takes it, this turn's postings commit on their own (the
  // group commit). One turn at a time per thread. Postings of other threads are not affected.
  void begin_turn() { turn_.begin(); }
  bool end_turn() { return turn_.end(); }
  bool answered_from_turn() { return turn_.answered_from(); }

 private:
  explicit SqliteLedgerEngine(
      std::unique_ptr<SqliteConnectionPool<SqliteLedgerConnection>> connections)
      : connections_(std::move(connections)),
        turn_(connections_.get()),
        group_commit_(connections_->writer_lock(), limits::write_batch_max) {}

  const std::unique_ptr<SqliteConnectionPool<SqliteLedgerConnection>> connections_;
  // The turns, and the writer connection (turn_.writer()) the group commit's leader writes on too.
  SqliteTurn<SqliteLedgerConnection> turn_;

  // A thread's posting in the group commit (thread_local, see group_commit.h).
  struct QueuedWrite : GroupCommit::Entry {
    SqliteLedgerConnection::Write write;
  };
  GroupCommit group_commit_;
};

}  // namespace store
