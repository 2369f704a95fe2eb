// store::Database is the one SQLite connection core every connection of the store is built on:
// the ledger's (store::SqliteLedgerConnection), the payments face's
// (store::SqlitePaymentsConnection) and the checkpointer's. It opens the shared file, runs the one
// PRAGMA set, checks the file, waits for locks one way, maps SQLite's result codes to a Status,
// detects a file that was removed or replaced, and reports faults. Its owners add their prepared
// statements and their SQL; none of them opens, configures or rolls back a connection by itself.
//
// Design notes — the invariants this layer keeps, for every connection of every kind:
//   1. Opened SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, never with CREATE: a connection never
//      creates the database, so a missing file stays a fault until someone puts a database back
//      (a fresh empty ledger must never silently replace one that was lost). NOMUTEX: a connection
//      is used by one thread at a time.
//   2. The file must be writable and in WAL mode (schema.cpp sets it; the mode lives in the file):
//      SQLite opens a file it may not write read-only instead of failing, and a file in another
//      journal mode was not prepared by us and would give up the concurrent readers we rely on.
//   3. One PRAGMA set (pragmas_sql() in database.cpp), on every connection, since PRAGMAs are per
//      connection and Debian's defaults are wrong for us: synchronous=NORMAL (no fsync per commit
//      in WAL; durable across process crashes), foreign_keys=ON, temp_store=MEMORY,
//      wal_autocheckpoint=0 (no commit ever runs a checkpoint and its fsyncs on the request path,
//      holding the write lock: store::Checkpointer does it, off that path) and
//      journal_size_limit=limits::wal_bytes_max. Only the page cache differs by kind.
//   4. Busy: while the owner prepares its statements, SQLite's own handler waits up to
//      limits::schema_busy_timeout_ms (the other instance may be applying the schema); from
//      serve() on, a retry every limits::busy_retry_sleep_us until options.busy_timeout_ms
//      (instead of SQLite's 1..100 ms back-off). 0 never waits (the checkpointer's).
//   5. Failures are values: fail() maps the code to busy (SQLITE_BUSY, SQLITE_LOCKED) or
//      unavailable, with the message in the Status, (anything else: I/O error, disk full, read-only
//      file). Reaching a schema constraint is a bug: every write's WHERE clause keeps inside them.
//   6. A write that does not commit is rolled back (finish_write()), so nothing is half-written.
//   7. file_moved(): whether the path still names the file this connection has open
//      (SQLITE_FCNTL_HAS_MOVED, one stat()). If the file or its directory was removed, writing on
//      would go to an unlinked "ghost" file that no one will ever read again: owners check it
//      before every operation (for writes with the write lock held, right before writing) and
//      answer moved(), i.e. unavailable; their pool replaces them once a database is back at the
//      path. Closing such a connection keeps the -wal and -shm files, whose names may now belong
//      to the restored database.
//   8. report() tells the FaultLog, if any, how each operation went: it prints one line when reads
//      or writes start failing and one when they work again, never one per request.
//
// Not thread-safe (invariant 1); the FaultLog is.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "check.h"
#include "crebito_limits.h"
#include "store/fault_log.h"
#include "store/status.h"

namespace store {

// Process-wide SQLite settings, before the process opens any database: no global statistics on
// SQLite's allocations (they put one process-wide mutex around every malloc and free; crebito never
// reads them). Measured with crebito-store-floor: a few per cent less CPU per posting
// (docs/BENCHMARKS.md). Then the WAL VFS becomes the default (store/sqlite/wal_vfs.h).
// Returns false if SQLite was already initialised (the settings then do not apply).
bool configure_sqlite();

struct Options {
  std::string path;
  int busy_timeout_ms = 0;
};

class Database {
 public:
  // Opens options.path and applies invariants 1-3; cache_kib > 0 sets the page cache, 0 keeps
  // SQLite's default. Throws (SQLite::Exception or std::runtime_error, with the reason) on failure;
  // owners construct it first among their members and turn the exception into their open()'s
  // error. fault_log, if given, must outlive the connection.
  Database(const Options& options, int cache_kib, FaultLog* fault_log);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Installs the request-time busy handler (invariant 4), once the owner's statements are prepared.
  void serve();

  SQLite::Database& sqlite() { return db_; }
  sqlite3* handle() { return db_.getHandle(); }
  const std::string& path() const { return options_.path; }

  // Write transactions (invariant 6). begin_write() runs BEGIN IMMEDIATE and, with the write lock
  // held, checks for a moved file (invariant 7); on failure nothing is open. commit() commits, or
  // rolls back and fails. finish_write() rolls back whatever is open and returns `status`.
  // REQUIRES (callers): the process's WriterLock is held around them.
  Status begin_write();
  Status commit();
  Status finish_write(Status status);

  // Invariant 5: the failure of `step` as a Status: rc's code, and a message naming the step.
  Status fail(int rc, const char* step);
  // Invariant 7.
  bool file_moved();
  Status moved();  // unavailable, saying why.
  // Invariant 8: reports `status` of an operation of `kind` and returns it (FaultLog::report).
  Status report(FaultLog::Kind kind, Status status);

  // Reads an integer or text PRAGMA back, so tests can check what the constructor set.
  std::string test_pragma(const char* name);

 private:
  static int on_busy(void* self, int attempts);

  // Constant after construction.
  const Options options_;
  FaultLog* const fault_log_;  // May be null: no reports.
  SQLite::Database db_;
  SQLite::Statement begin_;
  SQLite::Statement commit_;
  SQLite::Statement rollback_;

  // Used by the owning thread only.
  int64_t busy_since_us_ = 0;
};

// A connection of kind C opened as an error value: `make` runs C's constructor (which opens the
// file through a Database and prepares C's statements, throwing on failure). nullptr and *error,
// naming the path, on failure. For the owners of a Database (the ledger's and the payments face's
// connections), so that none turns a failure to open into an error by itself.
template <class C, class Make>
std::unique_ptr<C> open_connection(const Options& options, std::string* error, Make make) {
  CREBITO_ASSERT(options.busy_timeout_ms >= limits::busy_timeout_ms_min);
  try {
    return std::unique_ptr<C>(make());
  } catch (const std::exception& e) {
    *error = options.path + ": " + e.what();
    return nullptr;
  }
}

}  // namespace store
