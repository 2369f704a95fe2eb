// store::PostgresLedgerStore: the ledger in a PostgreSQL database (--store postgresql://...),
// shared by any number of instances on any number of machines. store::LedgerStore's contract,
// kept this way:
//   1. A credit or debit is one statement, hence one round trip and its own transaction: a
//      conditional UPDATE ... RETURNING of the account and, in the same statement, the history
//      row (a data-modifying WITH). The UPDATE's WHERE clause is the rule: when it matches no row
//      (the limit or the balance maximum would be broken) the INSERT has nothing to insert, so a
//      refused debit writes nothing. Concurrent postings to one account queue on its row lock, and
//      each re-checks the rule against the balance its predecessor committed (READ COMMITTED).
//   2. A statement is one SELECT, hence one snapshot.
//   3. Every prepared statement names the account in its WHERE clause (id = $1, or
//      account_id = $1), so a Citus cluster routes it to the one shard that holds the account.
//   4. Connections come from a pg::ConnectionPool of options.connections (--store-connections);
//      a lost one is reopened at its next use (store/postgres/pg_connection.h). While PostgreSQL
//      is down every call answers unavailable (503), and the store recovers by itself when it is
//      back. A read whose connection turns out to be lost is tried again on a reopened one, up to
//      limits::pg_read_attempts_max times in all. A connection idle in the pool is checked before
//      a statement is sent on it, so one the server closed meanwhile is reopened first and a
//      statement that fails on it was never sent.
//      A posting carries a random id (post_id), stored in its history row with the balance after
//      it. When its connection is lost after it was sent, PostgreSQL may have committed it, or,
//      while the lost session's backend still runs (waiting for the account's row lock, or not
//      yet aware its client is gone), may commit it later. So the store reconnects, has that
//      backend ended and waits until it is gone (pg_connection.h, invariant 7: from then on the
//      posting can no longer commit), and only then looks the id up: found, the answer is ok
//      with the stored balance; not found, nothing was written and 503 is true. All of it within
//      limits::pg_post_outcome_wait_ms; when it cannot be done in time (PostgreSQL is down, the
//      backend has not gone) the outcome is unknown: Status::unknown, answered 504, never 503
//      (docs/RELIABILITY.md).
//   5. Faults are logged once when they start and once when they end (store::FaultLog).
//   6. Turns: each posting commits alone; end_turn() is always true, no answer depends on it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "store/fault_log.h"
#include "store/ledger_store.h"
#include "store/postgres/pg_connection.h"

namespace store {

class PostgresLedgerStore final : public LedgerStore {
 public:
  // Applies schema-postgresql.sql under its advisory lock and opens options.connections
  // connections to `uri`, into *store. A failure's message names the URI, its password hidden.
  static Status open(const std::string& uri, const OpenOptions& options,
                     std::unique_ptr<PostgresLedgerStore>* store);

  Status post(const Posting& posting, AccountRow* after) override;
  Status read_statement(int64_t account_id, size_t entries_max, AccountRow* account,
                        std::vector<EntryRow>* entries) override;
  Status read_accounts(std::vector<AccountRow>* accounts) override;
  Status health(int64_t account_id) override;

  void begin_turn() override {}
  bool end_turn() override { return true; }
  bool answered_from_turn() override { return false; }

  // The statements every connection prepares (invariant 3 is checked on these by a test).
  static const std::vector<pg::Prepared>& statements();

 private:
  explicit PostgresLedgerStore(std::unique_ptr<pg::ConnectionPool> pool) : pool_(std::move(pool)) {}
  // Runs the prepared statement `name` once, and once more on a fresh connection when the first
  // found its connection lost (reads only: invariant 4).
  Status read(const char* name, const pg::Params& params, pg::Result* result);

  // Invariant 4: after `posting` (with id post_id) was sent on `connection` and the connection was
  // lost with the session of backend lost_backend_pid, ends that backend and learns whether the
  // posting committed: ok and *after when it did, unavailable when it did not (and now never
  // will), unknown when that could not be learnt within limits::pg_post_outcome_wait_ms. `lost`
  // is the posting's failure; a failure returned adds to its message.
  Status settle(pg::Connection* connection, int lost_backend_pid, int64_t account_id,
                int64_t post_id, const Status& lost, AccountRow* after);

  const std::unique_ptr<pg::ConnectionPool> pool_;
  FaultLog fault_log_;
};

}  // namespace store
