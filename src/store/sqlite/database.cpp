#include "store/sqlite/database.h"

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "check.h"
#include "clock.h"
#include "crebito_limits.h"
#include "store/sqlite/wal_vfs.h"

namespace store {
namespace {

// Invariant 3: the one PRAGMA set.
std::string pragmas_sql(int cache_kib) {
  std::string sql =
      "PRAGMA synchronous = NORMAL;"  // Durable across process crashes in WAL; fsync at
                                      // checkpoints.
      "PRAGMA foreign_keys = ON;"     // Defence in depth: a transaction row needs its account.
      "PRAGMA temp_store = MEMORY;"
      "PRAGMA wal_autocheckpoint = 0;"  // store::Checkpointer does it, off the request path.
      // The writer that starts the WAL over truncates the file to this size.
      "PRAGMA journal_size_limit = " +
      std::to_string(limits::wal_bytes_max) + ";";
  if (cache_kib > 0) sql += "PRAGMA cache_size = -" + std::to_string(cache_kib) + ";";
  return sql;
}

}  // namespace

bool configure_sqlite() {
  const bool configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  install_wal_vfs();  // One write per commit for the WAL (store/sqlite/wal_vfs.h).
  return configured;
}

Database::Database(const Options& options, int cache_kib, FaultLog* fault_log)
    : options_(options),
      fault_log_(fault_log),
      // Until serve(), SQLite's own handler waits out the other instance, which may be applying
      // the schema while the owner's statements are prepared (invariant 4).
      db_(options.path, SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX,
          limits::schema_busy_timeout_ms),
      begin_(db_, "BEGIN IMMEDIATE"),
      commit_(db_, "COMMIT"),
      rollback_(db_, "ROLLBACK") {
  CREBITO_ASSERT(options.busy_timeout_ms >= 0);
  CREBITO_ASSERT(cache_kib >= 0);
  if (sqlite3_db_readonly(db_.getHandle(), "main") == 1) {
    throw std::runtime_error("the database file or its directory is read-only");
  }
  db_.exec(pragmas_sql(cache_kib));
  const std::string mode = test_pragma("journal_mode");
  if (mode != "wal") {
    throw std::runtime_error("journal_mode is '" + mode + "', expected 'wal'");
  }
}

Database::~Database() {
  // The last connection to close deletes the -wal and -shm files by name. When the database was
  // removed or replaced, those names may now belong to a restored database: keep them.
  if (file_moved()) {
    int persist = 1;
    sqlite3_file_control(db_.getHandle(), "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
  }
}

void Database::serve() { sqlite3_busy_handler(db_.getHandle(), &Database::on_busy, this); }

// SQLite calls this while another connection holds the lock we need. Returning non-zero retries.
int Database::on_busy(void* self, int attempts) {
  auto* database = static_cast<Database*>(self);
  const int64_t now = clocks::steady_us();
  if (attempts == 0) database->busy_since_us_ = now;
  if (now - database->busy_since_us_ >= int64_t{database->options_.busy_timeout_ms} * 1000) {
    return 0;
  }
  std::this_thread::sleep_for(std::chrono::microseconds(limits::busy_retry_sleep_us));
  return 1;
}

Status Database::fail(int rc, const char* step) {
  std::string message =
      std::string(step) + ": " + sqlite3_errstr(rc) + " (" + db_.getErrorMsg() + ")";
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return {Status::busy, std::move(message)};
    case SQLITE_CONSTRAINT:
      // The WHERE clauses keep every write inside the constraints; reaching one is a bug.
      CREBITO_ASSERT(false && "a write reached a schema constraint");
      return {Status::unavailable, std::move(message)};
    default:
      return {Status::unavailable, std::move(message)};
  }
}

bool Database::file_moved() {
  int moved = 0;
  const int rc = sqlite3_file_control(db_.getHandle(), "main", SQLITE_FCNTL_HAS_MOVED, &moved);
  return rc == SQLITE_OK && moved != 0;
}

Status Database::moved() {
  return {Status::unavailable, options_.path +
                                   " was removed or replaced while open (waiting for a database "
                                   "at that path; none will be created)"};
}

Status Database::report(FaultLog::Kind kind, Status status) {
  if (fault_log_ == nullptr) return status;
  return fault_log_->report(kind, std::move(status));
}

Status Database::begin_write() {
  const int rc = begin_.tryExecuteStep();
  begin_.tryReset();
  if (rc != SQLITE_DONE) return finish_write(fail(rc, "BEGIN IMMEDIATE"));
  // Checked with the write lock held, right before writing: a commit into a removed file would be
  // acknowledged and lost (invariant 7).
  if (file_moved()) return finish_write(moved());
  return Status::ok;
}

Status Database::commit() {
  const int rc = commit_.tryExecuteStep();
  commit_.tryReset();
  if (rc != SQLITE_DONE) return finish_write(fail(rc, "COMMIT"));
  return Status::ok;
}

// After an I/O error SQLite may already have rolled the transaction back, hence the autocommit
// check.
Status Database::finish_write(Status status) {
  if (!sqlite3_get_autocommit(db_.getHandle())) {
    rollback_.tryExecuteStep();
    rollback_.tryReset();
  }
  return status;
}

std::string Database::test_pragma(const char* name) {
  SQLite::Statement pragma(db_, std::string("PRAGMA ") + name);
  if (!pragma.executeStep()) return "";
  return pragma.getColumn(0).getString();
}

}  // namespace store
