#include "store/connection.h"

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "check.h"
#include "crebito_limits.h"

namespace store {
namespace {

int64_t monotonic_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

// The debit/credit itself: one statement that checks and applies the change, so the rule and
// the write cannot be separated by another writer.
// It also numbers the account's transactions: the new count is the new row's seq.
constexpr const char* update_balance_sql =
    "UPDATE accounts SET balance_cents = balance_cents + ?1, "
    "transaction_count = transaction_count + 1 "
    "WHERE id = ?2 AND balance_cents + ?1 >= -limit_cents AND balance_cents + ?1 <= ?3 "
    "RETURNING balance_cents, limit_cents, transaction_count";

constexpr const char* insert_transaction_sql =
    "INSERT INTO transactions (account_id, seq, amount_cents, kind, description, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

// One SELECT, hence one snapshot (invariant 5). The LEFT JOIN keeps the account row when it has
// no transactions yet.
constexpr const char* select_statement_sql =
    "SELECT a.balance_cents, a.limit_cents, t.amount_cents, t.kind, t.description, t.created_at "
    "FROM accounts AS a LEFT JOIN ("
    "  SELECT seq, account_id, amount_cents, kind, description, created_at FROM transactions"
    "  WHERE account_id = ?1 ORDER BY seq DESC LIMIT ?2"
    ") AS t ON t.account_id = a.id "
    "WHERE a.id = ?1 ORDER BY t.seq DESC";

constexpr const char* select_accounts_sql =
    "SELECT id, limit_cents, balance_cents FROM accounts ORDER BY id";

// Set on every connection: these are per-connection settings, and Debian's defaults are wrong for
// us (synchronous=FULL even in WAL costs an fsync per commit).
constexpr const char* connection_pragmas_sql =
    "PRAGMA synchronous = NORMAL;"  // Durable across process crashes in WAL; fsync at checkpoints.
    "PRAGMA foreign_keys = ON;"     // Defence in depth: a transaction row needs its account.
    "PRAGMA temp_store = MEMORY;"
    "PRAGMA wal_autocheckpoint = 0;"  // store::Checkpointer does it, off the request path.
    // The writer that starts the WAL over truncates the file to this size (limits::wal_bytes_max).
    "PRAGMA journal_size_limit = 41943040;";

}  // namespace

const char* status_name(Status status) {
  switch (status) {
    case Status::ok:
      return "ok";
    case Status::refused:
      return "refused";
    case Status::busy:
      return "busy";
    case Status::unavailable:
      return "unavailable";
  }
  return "?";
}

void FaultLog::failed(Kind kind, const std::string& error) {
  State& state = states_[static_cast<int>(kind)];
  ++state.failures;
  state.last_failure_us = monotonic_us();
  if (state.failing.exchange(true)) return;
  std::fprintf(stderr, "crebito: database %s failing, answering 503 until they work again: %s\n",
               kind == Kind::read ? "reads" : "writes", error.c_str());
}

void FaultLog::succeeded(Kind kind) {
  State& state = states_[static_cast<int>(kind)];
  if (!state.failing.load(std::memory_order_relaxed)) return;
  if (monotonic_us() - state.last_failure_us < int64_t{limits::fault_quiet_ms} * 1000) return;
  if (!state.failing.exchange(false)) return;
  std::fprintf(stderr, "crebito: database %s work again (%lld requests answered 503 meanwhile)\n",
               kind == Kind::read ? "reads" : "writes",
               static_cast<long long>(state.failures.exchange(0)));
}

Connection::Connection(const Options& options, WriterLock* writer_lock, FaultLog* fault_log)
    : options_(options),
      writer_lock_(writer_lock),
      fault_log_(fault_log),
      // Until open() installs the request-time busy handler, SQLite's own waits out the other
      // instance, which may be applying the schema while these statements are prepared.
      db_(options.path, SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX,
          limits::schema_busy_timeout_ms),
      begin_(db_, "BEGIN IMMEDIATE"),
      commit_(db_, "COMMIT"),
      rollback_(db_, "ROLLBACK"),
      update_balance_(db_, update_balance_sql),
      insert_transaction_(db_, insert_transaction_sql),
      select_statement_(db_, select_statement_sql),
      select_accounts_(db_, select_accounts_sql) {}

Connection::~Connection() {
  // The last connection to close deletes the -wal and -shm files by name. When the database was
  // removed or replaced, those names may now belong to a restored database: keep them.
  if (file_moved()) {
    int persist = 1;
    sqlite3_file_control(db_.getHandle(), "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
  }
}

std::unique_ptr<Connection> Connection::open(const Options& options, WriterLock* writer_lock,
                                             std::string* error, FaultLog* fault_log) {
  CREBITO_ASSERT(writer_lock != nullptr);
  CREBITO_ASSERT(options.busy_timeout_ms >= limits::busy_timeout_ms_min);
  static_assert(limits::wal_bytes_max == 41943040, "keep connection_pragmas_sql in step");
  try {
    std::unique_ptr<Connection> connection(new Connection(options, writer_lock, fault_log));
    // SQLite opens a file it may not write read-only instead of failing; we only want a ledger we
    // can write to.
    if (sqlite3_db_readonly(connection->db_.getHandle(), "main") == 1) {
      *error = options.path + ": the database file or its directory is read-only";
      return nullptr;
    }
    connection->db_.exec(connection_pragmas_sql);
    // The journal mode lives in the file (schema.cpp sets it); a file in another mode was not
    // prepared by us and would give up the concurrent readers we rely on.
    const std::string mode = connection->test_pragma("journal_mode");
    if (mode != "wal") {
      *error = options.path + ": journal_mode is '" + mode + "', expected 'wal'";
      return nullptr;
    }
    sqlite3_busy_handler(connection->db_.getHandle(), &Connection::on_busy, connection.get());
    return connection;
  } catch (const std::exception& e) {
    *error = options.path + ": " + e.what();
    return nullptr;
  }
}

// SQLite calls this while another connection holds the lock we need. Returning non-zero retries.
int Connection::on_busy(void* self, int attempts) {
  auto* connection = static_cast<Connection*>(self);
  const int64_t now = monotonic_us();
  if (attempts == 0) connection->busy_since_us_ = now;
  if (now - connection->busy_since_us_ >= int64_t{connection->options_.busy_timeout_ms} * 1000) {
    return 0;
  }
  std::this_thread::sleep_for(std::chrono::microseconds(limits::busy_retry_sleep_us));
  return 1;
}

Status Connection::fail(int rc, const char* step) {
  last_error_ = std::string(step) + ": " + sqlite3_errstr(rc) + " (" + db_.getErrorMsg() + ")";
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::busy;
    case SQLITE_CONSTRAINT:
      // The WHERE clauses keep every write inside the constraints; reaching one is a bug.
      CREBITO_ASSERT(false && "a write reached a schema constraint");
      return Status::unavailable;
    default:
      return Status::unavailable;
  }
}

bool Connection::file_moved() {
  int moved = 0;
  const int rc = sqlite3_file_control(db_.getHandle(), "main", SQLITE_FCNTL_HAS_MOVED, &moved);
  return rc == SQLITE_OK && moved != 0;
}

Status Connection::moved() {
  last_error_ = options_.path +
                " was removed or replaced while open (waiting for a database at "
                "that path; none will be created)";
  return Status::unavailable;
}

Status Connection::report(FaultLog::Kind kind, Status status) {
  if (fault_log_ == nullptr) return status;
  if (status == Status::unavailable) {
    fault_log_->failed(kind, last_error_);
  } else if (status == Status::ok || (status == Status::refused && kind == FaultLog::Kind::read)) {
    // A refused write wrote nothing, so it proves nothing about the storage.
    fault_log_->succeeded(kind);
  }
  return status;
}

// Ends a write transaction that did not commit. After an I/O error SQLite may already have rolled
// it back, hence the autocommit check.
Status Connection::finish_write(Status status) {
  if (!sqlite3_get_autocommit(db_.getHandle())) {
    rollback_.tryExecuteStep();
    rollback_.tryReset();
  }
  return status;
}

// UPDATE + INSERT of one posting inside the open transaction. refused: the UPDATE matched no row
// and nothing was written; any other failure leaves the transaction to be rolled back.
Status Connection::apply_posting(const Posting& posting, AccountRow* after) {
  CREBITO_ASSERT(posting.kind == 'c' || posting.kind == 'd');
  CREBITO_ASSERT(posting.amount_cents >= limits::amount_cents_min);
  CREBITO_ASSERT(posting.amount_cents <= limits::amount_cents_max);
  CREBITO_ASSERT(posting.delta_cents ==
                 (posting.kind == 'c' ? posting.amount_cents : -posting.amount_cents));
  update_balance_.bind(1, posting.delta_cents);
  update_balance_.bind(2, posting.account_id);
  update_balance_.bind(3, limits::balance_cents_max);
  int rc = update_balance_.tryExecuteStep();
  int64_t seq = 0;
  if (rc == SQLITE_ROW) {
    after->id = posting.account_id;
    after->balance_cents = update_balance_.getColumn(0).getInt64();
    after->limit_cents = update_balance_.getColumn(1).getInt64();
    seq = update_balance_.getColumn(2).getInt64();
  }
  // RETURNING buffers its rows: the change is made on the first step. The statement must be reset
  // before COMMIT, or COMMIT fails with "SQL statements in progress".
  update_balance_.tryReset();
  if (rc == SQLITE_DONE) return Status::refused;
  if (rc != SQLITE_ROW) return fail(rc, "UPDATE accounts");
  CREBITO_ASSERT(after->balance_cents >= -after->limit_cents);
  CREBITO_ASSERT(after->balance_cents <= limits::balance_cents_max);

  CREBITO_ASSERT(seq >= 1);
  insert_transaction_.bind(1, posting.account_id);
  insert_transaction_.bind(2, seq);
  insert_transaction_.bind(3, posting.amount_cents);
  insert_transaction_.bind(4, std::string(1, posting.kind));
  insert_transaction_.bindNoCopy(5, posting.description);
  insert_transaction_.bindNoCopy(6, posting.created_at);
  rc = insert_transaction_.tryExecuteStep();
  insert_transaction_.tryReset();
  if (rc != SQLITE_DONE) return fail(rc, "INSERT INTO transactions");
  return Status::ok;
}

Status Connection::post_batch(Write* const* writes, size_t count) {
  std::lock_guard<WriterLock> writer(*writer_lock_);
  return post_batch_holding_lock(writes, count);
}

Status Connection::post_batch_holding_lock(Write* const* writes, size_t count) {
  CREBITO_ASSERT(count >= 1);
  CREBITO_ASSERT(count <= limits::write_batch_max);
  const Status status = post_batch_locked(writes, count);
  if (status != Status::ok) {
    for (size_t i = 0; i < count; ++i) writes[i]->status = status;
  }
  return report(FaultLog::Kind::write, status);
}

Status Connection::post_batch_locked(Write* const* writes, size_t count) {
  int rc = begin_.tryExecuteStep();
  begin_.tryReset();
  if (rc != SQLITE_DONE) return finish_write(fail(rc, "BEGIN IMMEDIATE"));
  // Checked with the write lock held, right before writing: a commit into a removed file would be
  // acknowledged and lost (invariant 8).
  if (file_moved()) return finish_write(moved());
  for (size_t i = 0; i < count; ++i) {
    const Status status = apply_posting(*writes[i]->posting, &writes[i]->after);
    if (status != Status::ok && status != Status::refused) return finish_write(status);
    writes[i]->status = status;
  }
  rc = commit_.tryExecuteStep();
  commit_.tryReset();
  if (rc != SQLITE_DONE) return finish_write(fail(rc, "COMMIT"));
  return Status::ok;
}

Status Connection::post(const Posting& posting, AccountRow* after) {
  Write write{&posting, {}, Status::unavailable};
  Write* const writes[] = {&write};
  const Status status = post_batch(writes, 1);
  if (status != Status::ok) return status;
  if (write.status == Status::ok) *after = write.after;
  return write.status;
}

Status Connection::begin_write() {
  const int rc = begin_.tryExecuteStep();
  begin_.tryReset();
  if (rc != SQLITE_DONE)
    return report(FaultLog::Kind::write, finish_write(fail(rc, "BEGIN IMMEDIATE")));
  // Checked with the write lock held, right before writing (invariant 8).
  if (file_moved()) return report(FaultLog::Kind::write, finish_write(moved()));
  return Status::ok;
}

Status Connection::apply(const Posting& posting, AccountRow* after) {
  const Status status = apply_posting(posting, after);
  if (status == Status::ok || status == Status::refused) return status;
  return report(FaultLog::Kind::write, finish_write(status));
}

Status Connection::commit_write() {
  const int rc = commit_.tryExecuteStep();
  commit_.tryReset();
  if (rc != SQLITE_DONE) return report(FaultLog::Kind::write, finish_write(fail(rc, "COMMIT")));
  return report(FaultLog::Kind::write, Status::ok);
}

void Connection::abandon_write() { static_cast<void>(finish_write(Status::unavailable)); }

Status Connection::read_statement_in_write(int64_t account_id, size_t entries_max,
                                           AccountRow* account, std::vector<EntryRow>* entries) {
  CREBITO_ASSERT(!sqlite3_get_autocommit(db_.getHandle()));
  return read_statement(account_id, entries_max, account, entries);
}

Status Connection::read_statement(int64_t account_id, size_t entries_max, AccountRow* account,
                                  std::vector<EntryRow>* entries) {
  return report(FaultLog::Kind::read,
                read_statement_checked(account_id, entries_max, account, entries));
}

Status Connection::read_statement_checked(int64_t account_id, size_t entries_max,
                                          AccountRow* account, std::vector<EntryRow>* entries) {
  entries->clear();
  if (file_moved()) return moved();
  select_statement_.bind(1, account_id);
  select_statement_.bind(2, static_cast<int64_t>(entries_max));
  bool found = false;
  int rc;
  while ((rc = select_statement_.tryExecuteStep()) == SQLITE_ROW) {
    if (!found) {
      found = true;
      account->id = account_id;
      account->balance_cents = select_statement_.getColumn(0).getInt64();
      account->limit_cents = select_statement_.getColumn(1).getInt64();
    }
    if (select_statement_.getColumn(2).isNull()) continue;  // No transactions yet.
    EntryRow& entry = entries->emplace_back();
    entry.amount_cents = select_statement_.getColumn(2).getInt64();
    entry.kind = select_statement_.getColumn(3).getString().at(0);
    entry.description = select_statement_.getColumn(4).getString();
    entry.created_at = select_statement_.getColumn(5).getString();
  }
  select_statement_.tryReset();
  if (rc != SQLITE_DONE) return fail(rc, "SELECT statement");
  CREBITO_ASSERT(entries->size() <= entries_max);
  return found ? Status::ok : Status::refused;
}

Status Connection::read_accounts(std::vector<AccountRow>* accounts) {
  return report(FaultLog::Kind::read, read_accounts_checked(accounts));
}

Status Connection::read_accounts_checked(std::vector<AccountRow>* accounts) {
  accounts->clear();
  if (file_moved()) return moved();
  int rc;
  while ((rc = select_accounts_.tryExecuteStep()) == SQLITE_ROW) {
    AccountRow& row = accounts->emplace_back();
    row.id = select_accounts_.getColumn(0).getInt64();
    row.limit_cents = select_accounts_.getColumn(1).getInt64();
    row.balance_cents = select_accounts_.getColumn(2).getInt64();
  }
  select_accounts_.tryReset();
  if (rc != SQLITE_DONE) return fail(rc, "SELECT accounts");
  return Status::ok;
}

std::string Connection::test_pragma(const char* name) {
  SQLite::Statement pragma(db_, std::string("PRAGMA ") + name);
  if (!pragma.executeStep()) return "";
  return pragma.getColumn(0).getString();
}

}  // namespace store
