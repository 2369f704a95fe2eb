#include "store/sqlite/schema.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "crebito_limits.h"
#include "schema_sql.h"

namespace store {
namespace {

constexpr auto busy_retry_interval = std::chrono::milliseconds(10);

// The first layout kept transactions in a rowid table numbered globally in commit order, with an
// index by (account_id, id). A file in that layout (its transactions table has an `id` column) is
// brought to schema.sql's in the transaction that applies it: these statements run before
// schema.sql, and copy_transactions_sql after it, numbering each account's rows in their old
// commit order.
constexpr const char* prepare_layout_1_sql =
    "DROP INDEX IF EXISTS transactions_by_account;"
    "ALTER TABLE transactions RENAME TO transactions_layout_1;"
    "ALTER TABLE accounts ADD COLUMN transaction_count INTEGER NOT NULL DEFAULT 0 "
    "  CHECK (transaction_count >= 0);";
constexpr const char* copy_transactions_sql =
    "INSERT INTO transactions (account_id, seq, amount_cents, kind, description, created_at) "
    "  SELECT account_id, ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY id), amount_cents,"
    "         kind, description, created_at FROM transactions_layout_1;"
    "UPDATE accounts SET transaction_count ="
    "  (SELECT COUNT(*) FROM transactions WHERE account_id = accounts.id);"
    "DROP TABLE transactions_layout_1;";

bool has_layout_1(SQLite::Database& db) {
  SQLite::Statement column(db, "SELECT 1 FROM pragma_table_info('transactions') WHERE name = 'id'");
  return column.executeStep();
}

void apply_once(const std::string& path) {
  // SQLite's own busy handler is fine here: start-up is not on any request's path.
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE,
                      limits::schema_busy_timeout_ms);
  // Switching to WAL needs the file to itself for a moment. The mode is stored in the file and
  // survives restarts.
  const std::string mode = db.execAndGet("PRAGMA journal_mode = WAL").getString();
  if (mode != "wal") {
    throw std::runtime_error("could not switch to WAL (journal_mode is '" + mode + "')");
  }
  SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
  const bool migrate = has_layout_1(db);
  if (migrate) db.exec(prepare_layout_1_sql);
  db.exec(schema_sql);
  if (migrate) db.exec(copy_transactions_sql);
  transaction.commit();
  if (migrate)
    std::fprintf(stderr, "crebito: %s: transactions moved to the current layout\n", path.c_str());
}

}  // namespace

Status apply_schema(const std::string& path) {
  // Another instance preparing the same file can make a step fail with SQLITE_BUSY at once (SQLite
  // skips the busy handler where waiting could deadlock, e.g. during the journal-mode switch), so
  // the whole preparation is retried until the deadline.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(limits::schema_busy_timeout_ms);
  while (true) {
    try {
      apply_once(path);
      return Status::ok;
    } catch (const SQLite::Exception& e) {
      const bool busy =
          (e.getErrorCode() & 0xff) == SQLITE_BUSY || (e.getErrorCode() & 0xff) == SQLITE_LOCKED;
      if (!busy || std::chrono::steady_clock::now() >= deadline) {
        return {busy ? Status::busy : Status::unavailable, path + ": " + e.what()};
      }
    } catch (const std::exception& e) {
      return {Status::unavailable, path + ": " + e.what()};
    }
    std::this_thread::sleep_for(busy_retry_interval);
  }
}

}  // namespace store
