#include "store/schema.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include <chrono>
#include <thread>

#include "crebito_limits.h"
#include "schema_sql.h"

namespace store {
namespace {

constexpr auto busy_retry_interval = std::chrono::milliseconds(10);

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
  db.exec(schema_sql);
  transaction.commit();
}

}  // namespace

bool apply_schema(const std::string& path, std::string* error) {
  // Another instance preparing the same file can make a step fail with SQLITE_BUSY at once (SQLite
  // skips the busy handler where waiting could deadlock, e.g. during the journal-mode switch), so
  // the whole preparation is retried until the deadline.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(limits::schema_busy_timeout_ms);
  while (true) {
    try {
      apply_once(path);
      return true;
    } catch (const SQLite::Exception& e) {
      const bool busy =
          (e.getErrorCode() & 0xff) == SQLITE_BUSY || (e.getErrorCode() & 0xff) == SQLITE_LOCKED;
      if (!busy || std::chrono::steady_clock::now() >= deadline) {
        *error = path + ": " + e.what();
        return false;
      }
    } catch (const std::exception& e) {
      *error = path + ": " + e.what();
      return false;
    }
    std::this_thread::sleep_for(busy_retry_interval);
  }
}

}  // namespace store
