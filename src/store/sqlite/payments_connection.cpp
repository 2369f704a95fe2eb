#include "store/sqlite/payments_connection.h"

#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include <random>

#include "check.h"
#include "clock.h"
#include "crebito_limits.h"

namespace store {
namespace {

constexpr const char* insert_sql =
    "INSERT INTO payments (correlation_id, amount_cents, due_ms, accepted_ms) "
    "VALUES (?1, ?2, ?3, ?3) ON CONFLICT (correlation_id) DO NOTHING";

// The SQL spells PaymentState and Processor as numbers (payments_store.h): SQLite uses
// schema.sql's partial indexes only for a query whose WHERE implies the index's `state < 2`.

// Both due-work queries read the partial index payments_due (schema.sql), which their
// `state < 2` names: the first entry with due_ms <= now is the answer, however long the backlog.
// The cheap look before taking the write lock: idle workers poll with this read only.
constexpr const char* any_due_sql =
    "SELECT 1 FROM payments WHERE state < 2 AND due_ms <= ?1 LIMIT 1";

constexpr const char* select_due_sql =
    "SELECT id, correlation_id, amount_cents, state, pinned, processor, requested_at_ms, attempts "
    "FROM payments WHERE state < 2 AND due_ms <= ?1 ORDER BY due_ms LIMIT ?2";

constexpr const char* lease_sql =
    "UPDATE payments SET state = 1, pinned = ?2, processor = ?3, requested_at_ms = ?4, "
    "attempts = ?5, due_ms = ?6, lease_token = ?7 WHERE id = ?1";

constexpr const char* settle_sql =
    "UPDATE payments SET state = 2, pinned = 0, processor = ?3, requested_at_ms = ?4, "
    "settled_ms = ?5 WHERE id = ?1 AND state = 1 AND lease_token = ?2";

constexpr const char* requeue_sql =
    "UPDATE payments SET state = 0, pinned = ?3, processor = ?4, requested_at_ms = ?5, "
    "due_ms = ?6 WHERE id = ?1 AND state = 1 AND lease_token = ?2";

constexpr const char* summary_sql =
    "SELECT processor, count(*), coalesce(sum(amount_cents), 0) FROM payments "
    "WHERE state = 2 AND requested_at_ms BETWEEN ?1 AND ?2 AND settled_ms <= ?3 "
    "GROUP BY processor";

constexpr const char* in_flight_sql =
    "SELECT count(*) FROM payments WHERE state = 1 AND requested_at_ms BETWEEN ?1 AND ?2";

constexpr const char* counts_sql =
    "SELECT count(*), "
    "  coalesce(sum(state = 0), 0), coalesce(sum(state < 2 AND pinned = 1), 0), "
    "  coalesce(sum(state = 1), 0), coalesce(sum(attempts > 1), 0), "
    "  coalesce(sum(state = 2 AND processor = 0), 0), coalesce(sum(state = 2 AND processor = 1), "
    "0),"
    "  coalesce(min(CASE WHEN state < 2 THEN accepted_ms END), 0) "
    "FROM payments";

constexpr const char* take_lease_sql =
    "UPDATE payment_leases SET owner = ?2, until_ms = ?4 "
    "WHERE name = ?1 AND (owner = ?2 OR until_ms < ?3)";

constexpr const char* read_health_sql =
    "SELECT processor, failing, min_response_ms, checked_ms FROM processor_health";

constexpr const char* write_health_sql =
    "UPDATE processor_health SET failing = ?2, min_response_ms = ?3, checked_ms = ?4 "
    "WHERE processor = ?1";

}  // namespace

SqlitePaymentsConnection::SqlitePaymentsConnection(const Options& options, WriterLock* writer_lock,
                                                   FaultLog* fault_log)
    : db_(options, limits::payments_cache_kib, fault_log),
      writer_lock_(writer_lock),
      insert_(db_.sqlite(), insert_sql),
      any_due_(db_.sqlite(), any_due_sql),
      select_due_(db_.sqlite(), select_due_sql),
      lease_(db_.sqlite(), lease_sql),
      settle_(db_.sqlite(), settle_sql),
      requeue_(db_.sqlite(), requeue_sql),
      summary_(db_.sqlite(), summary_sql),
      in_flight_(db_.sqlite(), in_flight_sql),
      counts_(db_.sqlite(), counts_sql),
      purge_(db_.sqlite(), "DELETE FROM payments"),
      take_lease_(db_.sqlite(), take_lease_sql),
      read_health_(db_.sqlite(), read_health_sql),
      write_health_(db_.sqlite(), write_health_sql) {
  std::random_device seed;
  token_state_ = (uint64_t{seed()} << 32) ^ seed() ^ static_cast<uint64_t>(clocks::steady_us());
  db_.serve();
}

SqlitePaymentsConnection::~SqlitePaymentsConnection() = default;

std::unique_ptr<SqlitePaymentsConnection> SqlitePaymentsConnection::open(const Options& options,
                                                                         WriterLock* writer_lock,
                                                                         std::string* error,
                                                                         FaultLog* fault_log) {
  CREBITO_ASSERT(writer_lock != nullptr);
  return open_connection<SqlitePaymentsConnection>(options, error, [&] {
    return new SqlitePaymentsConnection(options, writer_lock, fault_log);
  });
}

bool SqlitePaymentsConnection::holds_data() {
  std::array<HealthRow, processor_count> rows;
  return read_health(&rows) == Status::ok;
}

SqlitePaymentsConnection::QueryCost SqlitePaymentsConnection::test_due_query_cost() {
  // SQLiteCpp keeps its sqlite3_stmt private: find the two among the connection's statements.
  QueryCost cost;
  for (sqlite3_stmt* prepared = sqlite3_next_stmt(db_.handle(), nullptr); prepared != nullptr;
       prepared = sqlite3_next_stmt(db_.handle(), prepared)) {
    const std::string sql = sqlite3_sql(prepared);
    if (sql != any_due_sql && sql != select_due_sql) continue;
    cost.fullscan_steps += sqlite3_stmt_status(prepared, SQLITE_STMTSTATUS_FULLSCAN_STEP, 0);
    cost.sorts += sqlite3_stmt_status(prepared, SQLITE_STMTSTATUS_SORT, 0);
    cost.vm_steps += sqlite3_stmt_status(prepared, SQLITE_STMTSTATUS_VM_STEP, 0);
  }
  return cost;
}

// One autocommit write statement (bound by the caller); *changed tells whether a row changed.
Status SqlitePaymentsConnection::run_write(SQLite::Statement& statement, const char* step,
                                           bool* changed) {
  const int rc = statement.tryExecuteStep();
  statement.tryReset();
  statement.clearBindings();
  if (rc != SQLITE_DONE) return db_.fail(rc, step);
  *changed = sqlite3_changes(db_.handle()) > 0;
  return Status::ok;
}

Status SqlitePaymentsConnection::write_one(SQLite::Statement& statement, const char* step) {
  std::lock_guard<WriterLock> writer(*writer_lock_);
  // Checked with the write lock held, right before writing: a write into a removed file would be
  // acknowledged and lost.
  if (db_.file_moved()) {
    statement.clearBindings();
    return db_.report(FaultLog::Kind::write, db_.moved());
  }
  bool changed = false;
  const Status status = run_write(statement, step, &changed);
  if (status != Status::ok) return db_.report(FaultLog::Kind::write, status);
  static_cast<void>(db_.report(FaultLog::Kind::write, Status::ok));
  return changed ? Status::ok : Status::refused;
}

void SqlitePaymentsConnection::bind_accept(const std::string& correlation_id, int64_t amount_cents,
                                           int64_t now_ms) {
  CREBITO_ASSERT(correlation_id.size() == limits::correlation_id_chars);
  CREBITO_ASSERT(amount_cents >= limits::payment_cents_min);
  CREBITO_ASSERT(amount_cents <= limits::payment_cents_max);
  insert_.bindNoCopy(1, correlation_id);
  insert_.bind(2, amount_cents);
  insert_.bind(3, now_ms);
}

Status SqlitePaymentsConnection::accept(const std::string& correlation_id, int64_t amount_cents,
                                        int64_t now_ms) {
  bind_accept(correlation_id, amount_cents, now_ms);
  return write_one(insert_, "INSERT INTO payments");
}

Status SqlitePaymentsConnection::begin_write() {
  return db_.report(FaultLog::Kind::write, db_.begin_write());  // Checks for a moved file.
}

Status SqlitePaymentsConnection::accept_in_write(const std::string& correlation_id,
                                                 int64_t amount_cents, int64_t now_ms) {
  CREBITO_ASSERT(!sqlite3_get_autocommit(db_.handle()));
  if (db_.file_moved()) return db_.report(FaultLog::Kind::write, db_.finish_write(db_.moved()));
  bind_accept(correlation_id, amount_cents, now_ms);
  bool changed = false;
  const Status status = run_write(insert_, "INSERT INTO payments", &changed);
  if (status != Status::ok) return db_.report(FaultLog::Kind::write, db_.finish_write(status));
  return changed ? Status::ok : Status::refused;
}

Status SqlitePaymentsConnection::commit_write() {
  CREBITO_ASSERT(!sqlite3_get_autocommit(db_.handle()));
  if (db_.file_moved()) return db_.report(FaultLog::Kind::write, db_.finish_write(db_.moved()));
  return db_.report(FaultLog::Kind::write, db_.commit());
}

bool SqlitePaymentsConnection::any_due(int64_t now_ms, Status* status) {
  if (db_.file_moved()) {
    *status = db_.report(FaultLog::Kind::read, db_.moved());
    return false;
  }
  any_due_.bind(1, now_ms);
  const int rc = any_due_.tryExecuteStep();
  any_due_.tryReset();
  *status = db_.report(FaultLog::Kind::read, rc == SQLITE_ROW || rc == SQLITE_DONE
                                                 ? Status(Status::ok)
                                                 : db_.fail(rc, "SELECT due payment"));
  return rc == SQLITE_ROW;
}

Status SqlitePaymentsConnection::end_and_claim_checked(
    const std::vector<AttemptEnd>& ends, std::vector<Status>* ended, int64_t now_ms,
    int64_t lease_until_ms, int claims_max, const std::function<void(PaymentJob*)>& decide,
    std::vector<PaymentJob>* jobs) {
  // The cheap look first: with nothing to write and nothing due, the write lock is not taken.
  Status looked = Status::ok;
  if (claims_max > 0 && !any_due(now_ms, &looked)) {
    if (looked != Status::ok) return looked;
    claims_max = 0;
  }
  if (ends.empty() && claims_max == 0) return Status::refused;

  std::lock_guard<WriterLock> writer(*writer_lock_);
  const Status status =
      end_and_claim_locked(ends, ended, now_ms, lease_until_ms, claims_max, decide, jobs);
  if (status == Status::busy || status == Status::unavailable) {
    ended->assign(ends.size(), status);
    jobs->clear();
    return db_.report(FaultLog::Kind::write, status);
  }
  return status;
}

// end_and_claim() with the writer lock held.
Status SqlitePaymentsConnection::end_and_claim_locked(
    const std::vector<AttemptEnd>& ends, std::vector<Status>* ended, int64_t now_ms,
    int64_t lease_until_ms, int claims_max, const std::function<void(PaymentJob*)>& decide,
    std::vector<PaymentJob>* jobs) {
  const Status begun = db_.begin_write();  // Checks for a moved file.
  if (begun != Status::ok) return begun;
  for (size_t i = 0; i < ends.size(); ++i) {
    (*ended)[i] = write_end(ends[i]);
    if ((*ended)[i] != Status::ok && (*ended)[i] != Status::refused) {
      return db_.finish_write((*ended)[i]);
    }
  }
  const Status leased = claims_max > 0 ? lease_due(now_ms, lease_until_ms, claims_max, decide, jobs)
                                       : Status(Status::refused);
  if (leased != Status::ok && leased != Status::refused) return db_.finish_write(leased);
  // Nothing written (another worker took what was due between the look and the lock).
  if (ends.empty() && leased == Status::refused) return db_.finish_write(Status::refused);
  const Status committed = db_.commit();
  if (committed != Status::ok) return committed;
  static_cast<void>(db_.report(FaultLog::Kind::write, Status::ok));
  return jobs->empty() ? Status::refused : Status::ok;
}

// Leases up to claims_max of the most overdue payments, each as decide() says, inside the
// caller's transaction, and appends them to *jobs. refused: none is due (nothing written).
Status SqlitePaymentsConnection::lease_due(int64_t now_ms, int64_t lease_until_ms, int claims_max,
                                           const std::function<void(PaymentJob*)>& decide,
                                           std::vector<PaymentJob>* jobs) {
  // Read them all before the first update moves a row in the index being read.
  select_due_.bind(1, now_ms);
  select_due_.bind(2, claims_max);
  int rc;
  while ((rc = select_due_.tryExecuteStep()) == SQLITE_ROW) {
    PaymentJob job;
    job.id = select_due_.getColumn(0).getInt64();
    job.correlation_id = select_due_.getColumn(1).getString();
    job.amount_cents = select_due_.getColumn(2).getInt64();
    job.state = static_cast<PaymentState>(select_due_.getColumn(3).getInt());
    job.pinned = select_due_.getColumn(4).getInt() != 0;
    if (!select_due_.getColumn(5).isNull()) {
      job.processor = processor_from_column(select_due_.getColumn(5).getInt());
    }
    job.requested_at_ms =
        select_due_.getColumn(6).isNull() ? 0 : select_due_.getColumn(6).getInt64();
    job.attempts = select_due_.getColumn(7).getInt();
    CREBITO_ASSERT(job.state != PaymentState::settled);
    jobs->push_back(std::move(job));
  }
  select_due_.tryReset();
  if (rc != SQLITE_DONE) return db_.fail(rc, "SELECT due payment");
  if (jobs->empty()) return Status::refused;

  for (PaymentJob& job : *jobs) {
    const int attempts_before = job.attempts;
    decide(&job);
    CREBITO_ASSERT(job.attempts == attempts_before + 1);
    CREBITO_ASSERT(job.processor.has_value());
    CREBITO_ASSERT(job.requested_at_ms > 0);
    token_state_ = token_state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    job.lease_token = static_cast<int64_t>(token_state_ >> 1);
    job.state = PaymentState::leased;
    lease_.bind(1, job.id);
    lease_.bind(2, job.pinned ? 1 : 0);
    lease_.bind(3, static_cast<int>(*job.processor));
    lease_.bind(4, job.requested_at_ms);
    lease_.bind(5, job.attempts);
    lease_.bind(6, lease_until_ms);
    lease_.bind(7, job.lease_token);
    rc = lease_.tryExecuteStep();
    lease_.tryReset();
    if (rc != SQLITE_DONE) return db_.fail(rc, "UPDATE payments (lease)");
  }
  return Status::ok;
}

Status SqlitePaymentsConnection::write_end(const AttemptEnd& end) {
  SQLite::Statement& statement = end.settled ? settle_ : requeue_;
  statement.bind(1, end.job.id);
  statement.bind(2, end.job.lease_token);
  if (end.settled) {
    CREBITO_ASSERT(end.requested_at_ms > 0);
    settle_.bind(3, static_cast<int>(end.processor));
    settle_.bind(4, end.requested_at_ms);
    settle_.bind(5, end.at_ms);
  } else {
    requeue_.bind(3, end.pinned ? 1 : 0);
    requeue_.bind(4, static_cast<int>(end.processor));
    requeue_.bind(5, end.requested_at_ms);
    requeue_.bind(6, end.at_ms);
  }
  bool changed = false;
  const Status status = run_write(
      statement, end.settled ? "UPDATE payments (settle)" : "UPDATE payments (requeue)", &changed);
  if (status != Status::ok) return status;
  return changed ? Status::ok : Status::refused;
}

Status SqlitePaymentsConnection::summary(int64_t from_ms, int64_t to_ms, int64_t settled_until_ms,
                                         std::array<ProcessorTotals, processor_count>* totals,
                                         int64_t* in_flight) {
  *totals = {};
  *in_flight = 0;
  if (from_ms > to_ms) return Status::ok;
  return db_.report(FaultLog::Kind::read,
                    summary_checked(from_ms, to_ms, settled_until_ms, totals, in_flight));
}

Status SqlitePaymentsConnection::summary_checked(
    int64_t from_ms, int64_t to_ms, int64_t settled_until_ms,
    std::array<ProcessorTotals, processor_count>* totals, int64_t* in_flight) {
  if (db_.file_moved()) return db_.moved();
  // One read transaction, so the totals and the in-flight count come from one snapshot.
  try {
    SQLite::Transaction read(db_.sqlite(), SQLite::TransactionBehavior::DEFERRED);
    summary_.bind(1, from_ms);
    summary_.bind(2, to_ms);
    summary_.bind(3, settled_until_ms);
    int rc;
    while ((rc = summary_.tryExecuteStep()) == SQLITE_ROW) {
      const Processor processor = processor_from_column(summary_.getColumn(0).getInt());
      (*totals)[processor_index(processor)] = {summary_.getColumn(1).getInt64(),
                                               summary_.getColumn(2).getInt64()};
    }
    summary_.tryReset();
    if (rc != SQLITE_DONE) return db_.fail(rc, "SELECT summary");
    in_flight_.bind(1, from_ms);
    in_flight_.bind(2, to_ms);
    rc = in_flight_.tryExecuteStep();
    if (rc == SQLITE_ROW) *in_flight = in_flight_.getColumn(0).getInt64();
    in_flight_.tryReset();
    if (rc != SQLITE_ROW) return db_.fail(rc, "SELECT in flight");
    read.commit();
  } catch (const SQLite::Exception& e) {
    return db_.fail(e.getErrorCode(), "summary transaction");
  }
  return Status::ok;
}

Status SqlitePaymentsConnection::counts(QueueCounts* out) {
  return db_.report(FaultLog::Kind::read, counts_checked(out));
}

Status SqlitePaymentsConnection::counts_checked(QueueCounts* out) {
  if (db_.file_moved()) return db_.moved();
  const int rc = counts_.tryExecuteStep();
  if (rc == SQLITE_ROW) {
    out->accepted = counts_.getColumn(0).getInt64();
    out->queued = counts_.getColumn(1).getInt64();
    out->pinned = counts_.getColumn(2).getInt64();
    out->in_flight = counts_.getColumn(3).getInt64();
    out->retried = counts_.getColumn(4).getInt64();
    out->settled = {counts_.getColumn(5).getInt64(), counts_.getColumn(6).getInt64()};
    out->oldest_unsettled_accepted_ms = counts_.getColumn(7).getInt64();
  }
  counts_.tryReset();
  if (rc != SQLITE_ROW) return db_.fail(rc, "SELECT counts");
  CREBITO_ASSERT(out->queued + out->in_flight + out->settled[0] + out->settled[1] == out->accepted);
  return Status::ok;
}

Status SqlitePaymentsConnection::purge() {
  Status status = write_one(purge_, "DELETE FROM payments");
  if (status == Status::refused) return Status::ok;  // Refused: it was empty already.
  return status;
}

Status SqlitePaymentsConnection::take_lease(const std::string& name, const std::string& owner,
                                            int64_t now_ms, int64_t until_ms) {
  CREBITO_ASSERT(until_ms > now_ms);
  take_lease_.bindNoCopy(1, name);
  take_lease_.bindNoCopy(2, owner);
  take_lease_.bind(3, now_ms);
  take_lease_.bind(4, until_ms);
  return write_one(take_lease_, "UPDATE payment_leases");
}

Status SqlitePaymentsConnection::read_health(std::array<HealthRow, processor_count>* rows) {
  *rows = {};
  return db_.report(FaultLog::Kind::read, read_health_checked(rows));
}

Status SqlitePaymentsConnection::read_health_checked(std::array<HealthRow, processor_count>* rows) {
  if (db_.file_moved()) return db_.moved();
  int rc;
  while ((rc = read_health_.tryExecuteStep()) == SQLITE_ROW) {
    const Processor processor = processor_from_column(read_health_.getColumn(0).getInt());
    (*rows)[processor_index(processor)] = {read_health_.getColumn(1).getInt() != 0,
                                           read_health_.getColumn(2).getInt64(),
                                           read_health_.getColumn(3).getInt64()};
  }
  read_health_.tryReset();
  if (rc != SQLITE_DONE) return db_.fail(rc, "SELECT processor_health");
  return Status::ok;
}

Status SqlitePaymentsConnection::write_health(Processor processor, const HealthRow& row) {
  write_health_.bind(1, static_cast<int>(processor));
  write_health_.bind(2, row.failing ? 1 : 0);
  write_health_.bind(3, row.min_response_ms);
  write_health_.bind(4, row.checked_ms);
  Status status = write_one(write_health_, "UPDATE processor_health");
  if (status == Status::refused) return Status::ok;
  return status;
}

}  // namespace store
