#include "store/schema.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>

#include "crebito_limits.h"
#include "schema_sql.h"

namespace store {

bool apply_schema(const std::string& path, std::string* error) {
  try {
    // SQLite's own busy handler is fine here: start-up is not on any request's path.
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE,
                        limits::schema_busy_timeout_ms);
    // Switching to WAL needs the file to itself for a moment; the busy timeout covers the other
    // instance doing the same. The mode is stored in the file and survives restarts.
    const std::string mode = db.execAndGet("PRAGMA journal_mode = WAL").getString();
    if (mode != "wal") {
      *error = path + ": could not switch to WAL (journal_mode is '" + mode + "')";
      return false;
    }
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    db.exec(schema_sql);
    transaction.commit();
    return true;
  } catch (const std::exception& e) {
    *error = path + ": " + e.what();
    return false;
  }
}

}  // namespace store
