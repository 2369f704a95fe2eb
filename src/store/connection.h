// store::Connection owns one SQLite connection to the shared ledger file and its prepared
// statements. It is the only code that knows SQL.
//
// Design notes — the invariants this layer keeps:
//   1. Every write runs in BEGIN IMMEDIATE, so it holds the database's single write lock from its
//      first read; no write ever upgrades a read snapshot (which WAL answers with SQLITE_BUSY).
//   2. The balance update and the transaction row commit together or not at all.
//   3. At every commit, balance >= -limit and balance <= limits::balance_cents_max: the UPDATE's
//      WHERE clause refuses the change, schema.sql's CHECK constraints back it up.
//   4. A connection is used by one thread at a time (it is opened SQLITE_OPEN_NOMUTEX).
//   5. A statement is one SELECT, hence one read snapshot: the balance and the listed rows always
//      agree. Rows come newest first by id, which is commit order.
//   6. Within one process, writers queue on a mutex (woken in turn by the kernel); across the two
//      processes they wait in a busy handler that retries every limits::busy_retry_sleep_us
//      instead of SQLite's default 1..100 ms back-off.
//
// Errors are values: every call returns a Status; no SQLiteCpp exception leaves this layer.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace store {

enum class [[nodiscard]] Status{
    ok,
    refused,      // The conditional update matched no row; nothing was written.
    busy,         // The write lock stayed with another writer past the busy timeout.
    unavailable,  // I/O error, disk full, read-only or vanished file; nothing was written.
};

const char* status_name(Status status);

struct Options {
  std::string path;
  int busy_timeout_ms = 0;
};

struct AccountRow {
  int64_t id = 0;
  int64_t limit_cents = 0;
  int64_t balance_cents = 0;
};

struct EntryRow {
  int64_t amount_cents = 0;
  char kind = 0;  // 'c' or 'd'
  std::string description;
  std::string created_at;
};

// One credit or debit as the store writes it. delta_cents is +amount for a credit and -amount
// for a debit.
struct Posting {
  int64_t account_id = 0;
  int64_t delta_cents = 0;
  int64_t amount_cents = 0;
  char kind = 0;
  std::string description;
  std::string created_at;
};

class Connection {
 public:
  // Opens the database file, which must already hold the schema (see schema.h), and sets this
  // connection's PRAGMAs. On failure returns nullptr and fills *error.
  // REQUIRES: writer_mutex outlives the connection and is shared by every connection of the
  // process.
  static std::unique_ptr<Connection> open(const Options& options, std::mutex* writer_mutex,
                                          std::string* error);

  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Applies the posting in one BEGIN IMMEDIATE transaction. ok: *after holds the account as
  // committed. refused: the limit (or the balance maximum) would be broken; nothing written.
  Status post(const Posting& posting, AccountRow* after);

  // Reads the account and its newest entries (at most entries_max, newest first) from one
  // snapshot. refused: no such account.
  Status read_statement(int64_t account_id, size_t entries_max, AccountRow* account,
                        std::vector<EntryRow>* entries);

  // Reads every account, ordered by id.
  Status read_accounts(std::vector<AccountRow>* accounts);

  // The message of the last failure, for the log.
  const std::string& last_error() const { return last_error_; }

  // Reads an integer or text PRAGMA back, so tests can check what open() set.
  std::string test_pragma(const char* name);

 private:
  Connection(const Options& options, std::mutex* writer_mutex);
  Status fail(int rc, const char* step);
  Status finish_write(Status status);
  static int on_busy(void* self, int attempts);

  // Constant after construction.
  const Options options_;
  std::mutex* const writer_mutex_;
  SQLite::Database db_;
  SQLite::Statement begin_;
  SQLite::Statement commit_;
  SQLite::Statement rollback_;
  SQLite::Statement update_balance_;
  SQLite::Statement insert_transaction_;
  SQLite::Statement select_statement_;
  SQLite::Statement select_accounts_;

  // Used by the owning thread only.
  int64_t busy_since_us_ = 0;
  std::string last_error_;
};

}  // namespace store
