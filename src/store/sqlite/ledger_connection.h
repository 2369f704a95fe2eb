// store::SqliteLedgerConnection owns one SQLite connection to the shared ledger file and its
// prepared statements: the ledger's SQL on SQLite (the payments face's is in
// store/sqlite/payments_connection.cpp, PostgreSQL's in store/postgres/).
//
// Design notes — the invariants this layer keeps:
//   1. Every write runs in BEGIN IMMEDIATE, so it holds the database's single write lock from its
//      first read; no write ever upgrades a read snapshot (which WAL answers with SQLITE_BUSY).
//   2. The balance update and the transaction row commit together or not at all.
//   3. At every commit, balance >= -limit and balance <= limits::balance_cents_max: the UPDATE's
//      WHERE clause refuses the change, schema.sql's CHECK constraints back it up.
//   4. A connection is used by one thread at a time (it is opened SQLITE_OPEN_NOMUTEX).
//   5. A statement is one SELECT, hence one read snapshot: the balance and the listed rows always
//      agree. Rows come newest first by seq, the account's commit order.
//   6. Writers of both processes queue on one process-shared mutex (WriterLock) before BEGIN
//      IMMEDIATE, so the lock passes from writer to writer at once instead of being polled for.
//      SQLite's busy handler (a retry every limits::busy_retry_sleep_us, instead of the default
//      1..100 ms back-off) is the fallback for writers outside crebito.
//
// Storage faults (disk full, I/O error, read-only file, the file removed or replaced while open),
// kept by the SQLite core this connection is built on (store/sqlite/database.h, which also opens
// the file, runs the one PRAGMA set and waits for locks):
//   7. A write that meets one is rolled back and answered `unavailable`; nothing is half-written.
//   8. Every operation first checks that the path still names the file this connection has open
//      (Database::file_moved, one stat(); for writes with the write lock held, right before
//      writing) and answers `unavailable` if not; the SqliteLedgerEngine replaces the connection
//      once a database is back at the path.
//   9. A connection never creates the database: a missing file stays a fault until someone puts a
//      ledger back (a fresh empty ledger must never silently replace one that was lost).
//  10. Every operation reports to the pool's FaultLog: one line when reads or writes start
//      failing and one when they work again, never one per request.
//
// Errors are values: every call returns a Status (store/status.h: a failure's message travels in
// it); no SQLiteCpp exception leaves this layer.
#pragma once

#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/ledger_rows.h"
#include "store/sqlite/database.h"
#include "store/sqlite/writer_lock.h"

namespace store {

class SqliteLedgerConnection {
 public:
  // Opens the database file, which must already hold the schema (see schema.h), and sets this
  // connection's PRAGMAs. On failure returns nullptr and fills *error.
  // REQUIRES: writer_lock outlives the connection.
  // fault_log, if given, must outlive the connection. The connection refuses a read-only file.
  static std::unique_ptr<SqliteLedgerConnection> open(const Options& options,
                                                      WriterLock* writer_lock, std::string* error,
                                                      FaultLog* fault_log = nullptr);

  ~SqliteLedgerConnection();
  SqliteLedgerConnection(const SqliteLedgerConnection&) = delete;
  SqliteLedgerConnection& operator=(const SqliteLedgerConnection&) = delete;

  // One posting of a batch and, once post_batch() returns, its own outcome: ok (after holds the
  // account right after this posting, as committed) or refused (nothing of it written).
  struct Write {
    const Posting* posting = nullptr;
    AccountRow after;
    Status status = Status::unavailable;
  };

  // Applies the postings in order, in one BEGIN IMMEDIATE transaction: each is its own conditional
  // UPDATE ... RETURNING and history row, so a refused one does not affect the others. Returns ok
  // when the transaction committed (each Write then says ok or refused); otherwise nothing at all
  // was written, every Write carries the returned status (busy or unavailable).
  Status post_batch(Write* const* writes, size_t count);

  // post_batch() for a caller that already holds the writer lock: the SqliteLedgerEngine's group
  // commit takes it before it chooses a batch, so that the batch holds every posting queued while
  // it waited. REQUIRES: the calling thread holds the WriterLock this connection was opened with.
  Status post_batch_holding_lock(Write* const* writes, size_t count);

  // post_batch() of one posting: its status, and *after when ok.
  Status post(const Posting& posting, AccountRow* after);

  // A write transaction kept open across postings that arrive one by one (the SqliteLedgerEngine's
  // turns): begin_write() runs BEGIN IMMEDIATE; apply() adds one posting (ok or refused, as in a
  // batch; any other status means the transaction must be abandoned); commit_write() commits;
  // abandon_write() rolls back whatever is open. Each reports to the fault log as post_batch()
  // does. REQUIRES: the calling thread holds the writer lock from begin_write() to the end.
  Status begin_write();
  Status apply(const Posting& posting, AccountRow* after);
  Status commit_write();
  void abandon_write();

  // read_statement() from inside the open write transaction: it sees the postings applied so far.
  Status read_statement_in_write(int64_t account_id, size_t entries_max, AccountRow* account,
                                 std::vector<EntryRow>* entries);

  // Reads the account and its newest entries (at most entries_max, newest first) from one
  // snapshot. refused: no such account.
  Status read_statement(int64_t account_id, size_t entries_max, AccountRow* account,
                        std::vector<EntryRow>* entries);

  // Reads every account, ordered by id.
  Status read_accounts(std::vector<AccountRow>* accounts);

  // What a pool checks before it lends a connection it opened on a restored file: the file holds
  // a ledger (its accounts can be read, and there are some).
  bool holds_data();

  // True when the database path no longer names the file this connection has open (removed,
  // renamed or replaced). Such a connection only ever answers `unavailable`; reopen it.
  bool file_moved() { return db_.file_moved(); }

  // Reads an integer or text PRAGMA back, so tests can check what open() set.
  std::string test_pragma(const char* name) { return db_.test_pragma(name); }

 private:
  SqliteLedgerConnection(const Options& options, WriterLock* writer_lock, FaultLog* fault_log);
  Status apply_posting(const Posting& posting, AccountRow* after);
  Status post_batch_locked(Write* const* writes, size_t count);
  Status read_statement_checked(int64_t account_id, size_t entries_max, AccountRow* account,
                                std::vector<EntryRow>* entries);
  Status read_accounts_checked(std::vector<AccountRow>* accounts);

  // Constant after construction.
  Database db_;  // First: the statements below are prepared on it.
  WriterLock* const writer_lock_;
  SQLite::Statement update_balance_;
  SQLite::Statement insert_transaction_;
  SQLite::Statement select_statement_;
  SQLite::Statement select_accounts_;
};

}  // namespace store
