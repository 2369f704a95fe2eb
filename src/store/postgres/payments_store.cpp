#include "store/postgres/payments_store.h"

#include <random>

#include "check.h"
#include "clock.h"
#include "crebito_limits.h"
#include "store/location.h"

namespace store {
namespace {

using pg::Params;
using pg::Prepared;
using pg::Result;

constexpr const char* insert_name = "payments_insert";
constexpr const char* any_due_name = "payments_any_due";
constexpr const char* select_due_name = "payments_select_due";
constexpr const char* lease_name = "payments_lease";
constexpr const char* end_name = "payments_end";
constexpr const char* summary_name = "payments_summary";
constexpr const char* counts_name = "payments_counts";
constexpr const char* purge_name = "payments_purge";
constexpr const char* take_lease_name = "payments_take_lease";
constexpr const char* read_health_name = "payments_read_health";
constexpr const char* write_health_name = "payments_write_health";

const std::vector<Prepared>& statements() {
  static const std::vector<Prepared> all = {
      {insert_name,
       "INSERT INTO payments (correlation_id, amount_cents, due_ms, accepted_ms) "
       "VALUES ($1, $2, $3, $3) ON CONFLICT (correlation_id) DO NOTHING"},
      // The cheap look before a claim's transaction: idle workers poll with this read only.
      {any_due_name, "SELECT 1 FROM payments WHERE state < 2 AND due_ms <= $1 LIMIT 1"},
      // Invariant 1 (payments_store.h): rows another transaction is claiming are skipped, not
      // waited for; the LIMIT counts the rows locked here.
      {select_due_name,
       "SELECT id, correlation_id, amount_cents, state, pinned, processor, requested_at_ms, "
       "attempts FROM payments WHERE state < 2 AND due_ms <= $1 ORDER BY due_ms LIMIT $2 "
       "FOR UPDATE SKIP LOCKED"},
      // The claimed rows, each as decide() said, in one statement ($1: the lease's end).
      {lease_name,
       "UPDATE payments AS p SET state = 1, pinned = v.pinned, processor = v.processor, "
       "requested_at_ms = v.requested_at_ms, attempts = v.attempts, due_ms = $1, "
       "lease_token = v.token "
       "FROM unnest($2::bigint[], $3::smallint[], $4::smallint[], $5::bigint[], $6::integer[], "
       "$7::bigint[]) AS v (id, pinned, processor, requested_at_ms, attempts, token) "
       "WHERE p.id = v.id"},
      // Invariant 2: the attempts' ends, in one statement. Per row, the first end (in the order
      // given) whose lease still holds is written; the UPDATE re-checks the lease on the row's
      // newest version. RETURNING names the ends written (1-based, as given).
      {end_name,
       "WITH v AS ("
       "  SELECT DISTINCT ON (e.id) e.id, e.token, e.settled, e.pinned, e.processor, "
       "    e.requested_at_ms, e.at_ms, e.ord "
       "  FROM unnest($1::bigint[], $2::bigint[], $3::smallint[], $4::smallint[], "
       "    $5::smallint[], $6::bigint[], $7::bigint[]) WITH ORDINALITY "
       "    AS e (id, token, settled, pinned, processor, requested_at_ms, at_ms, ord) "
       "  JOIN payments AS q ON q.id = e.id AND q.state = 1 AND q.lease_token = e.token "
       "  ORDER BY e.id, e.ord) "
       "UPDATE payments AS p SET "
       "  state = CASE WHEN v.settled = 1 THEN 2 ELSE 0 END, "
       "  pinned = CASE WHEN v.settled = 1 THEN 0 ELSE v.pinned END, "
       "  processor = v.processor, requested_at_ms = v.requested_at_ms, "
       "  settled_ms = CASE WHEN v.settled = 1 THEN v.at_ms ELSE p.settled_ms END, "
       "  due_ms = CASE WHEN v.settled = 1 THEN p.due_ms ELSE v.at_ms END "
       "FROM v WHERE p.id = v.id AND p.state = 1 AND p.lease_token = v.token "
       "RETURNING v.ord"},
      // Invariant 3: the settled totals by processor (kind 0) and the calls in flight (kind 1),
      // from one snapshot.
      {summary_name,
       "SELECT 0, processor, count(*), coalesce(sum(amount_cents), 0)::bigint FROM payments "
       "WHERE state = 2 AND requested_at_ms BETWEEN $1 AND $2 AND settled_ms <= $3 "
       "GROUP BY processor "
       "UNION ALL "
       "SELECT 1, 0, count(*), 0 FROM payments "
       "WHERE state = 1 AND requested_at_ms BETWEEN $1 AND $2"},
      {counts_name,
       "SELECT count(*), count(*) FILTER (WHERE state = 0), "
       "  count(*) FILTER (WHERE state < 2 AND pinned = 1), count(*) FILTER (WHERE state = 1), "
       "  count(*) FILTER (WHERE attempts > 1), "
       "  count(*) FILTER (WHERE state = 2 AND processor = 0), "
       "  count(*) FILTER (WHERE state = 2 AND processor = 1), "
       "  coalesce(min(accepted_ms) FILTER (WHERE state < 2), 0) "
       "FROM payments"},
      {purge_name, "DELETE FROM payments"},
      {take_lease_name,
       "UPDATE payment_leases SET owner = $2, until_ms = $4 "
       "WHERE name = $1 AND (owner = $2 OR until_ms < $3)"},
      {read_health_name,
       "SELECT processor, failing, min_response_ms, checked_ms FROM processor_health"},
      {write_health_name,
       "UPDATE processor_health SET failing = $2, min_response_ms = $3, checked_ms = $4 "
       "WHERE processor = $1"},
  };
  return all;
}

// A PostgreSQL array literal of integers, e.g. {1,2,3}.
class IntArray {
 public:
  void add(int64_t value) {
    text_ += text_.size() > 1 ? "," : "";
    text_ += std::to_string(value);
  }
  std::string done() const { return text_ + "}"; }

 private:
  std::string text_ = "{";
};

}  // namespace

// ---- PostgresPaymentsConnection ----

PostgresPaymentsConnection::PostgresPaymentsConnection(std::unique_ptr<pg::Connection> connection,
                                                       FaultLog* fault_log)
    : connection_(std::move(connection)), fault_log_(fault_log) {
  std::random_device seed;
  token_state_ = (uint64_t{seed()} << 32) ^ seed() ^ static_cast<uint64_t>(clocks::steady_us());
}

PostgresPaymentsConnection::~PostgresPaymentsConnection() = default;

std::unique_ptr<PostgresPaymentsConnection> PostgresPaymentsConnection::open(const std::string& uri,
                                                                             std::string* error,
                                                                             FaultLog* fault_log) {
  std::unique_ptr<pg::Connection> connection = pg::Connection::open(uri, statements(), error);
  if (!connection) return nullptr;
  return std::unique_ptr<PostgresPaymentsConnection>(
      new PostgresPaymentsConnection(std::move(connection), fault_log));
}

Status PostgresPaymentsConnection::report(FaultLog::Kind kind, Status status) {
  if (status == Status::conflict) status = {Status::unavailable, status.message()};
  if (fault_log_ == nullptr) return status;
  return fault_log_->report(kind, std::move(status));
}

int64_t PostgresPaymentsConnection::next_token() {
  token_state_ = token_state_ * 6364136223846793005ULL + 1442695040888963407ULL;
  return static_cast<int64_t>(token_state_ >> 1);
}

Status PostgresPaymentsConnection::write_one(const char* statement, const Params& params) {
  Result result;
  const Status status = connection_->exec(statement, params, &result);
  if (status != Status::ok) return report(FaultLog::Kind::write, status);
  static_cast<void>(report(FaultLog::Kind::write, Status::ok));
  return result.rows_affected() > 0 ? Status::ok : Status::refused;
}

Status PostgresPaymentsConnection::accept(const std::string& correlation_id, int64_t amount_cents,
                                          int64_t now_ms) {
  CREBITO_ASSERT(correlation_id.size() == limits::correlation_id_chars);
  CREBITO_ASSERT(amount_cents >= limits::payment_cents_min);
  CREBITO_ASSERT(amount_cents <= limits::payment_cents_max);
  Params params;
  params.add(correlation_id).add(amount_cents).add(now_ms);
  return write_one(insert_name, params);
}

Status PostgresPaymentsConnection::end_and_claim_checked(
    const std::vector<AttemptEnd>& ends, std::vector<Status>* ended, int64_t now_ms,
    int64_t lease_until_ms, int claims_max, const std::function<void(PaymentJob*)>& decide,
    std::vector<PaymentJob>* jobs) {
  // The cheap look first: with nothing to write and nothing due, no transaction is begun.
  if (claims_max > 0) {
    Result due;
    Params params;
    params.add(now_ms);
    const Status looked = connection_->exec(any_due_name, params, &due);
    if (looked != Status::ok) return report(FaultLog::Kind::read, looked);
    if (due.rows() == 0) claims_max = 0;
  }
  if (ends.empty() && claims_max == 0) return Status::refused;

  Status status = connection_->begin();
  if (status == Status::ok) {
    status = end_and_claim_in(ends, ended, lease_until_ms, claims_max, now_ms, decide, jobs);
  }
  if (status != Status::ok && status != Status::refused) {
    ended->assign(ends.size(), status == Status::conflict
                                   ? Status(Status::unavailable, status.message())
                                   : status);
    jobs->clear();
    return report(FaultLog::Kind::write, status);
  }
  static_cast<void>(report(FaultLog::Kind::write, Status::ok));
  return status;
}

Status PostgresPaymentsConnection::end_and_claim_in(const std::vector<AttemptEnd>& ends,
                                                    std::vector<Status>* ended,
                                                    int64_t lease_until_ms, int claims_max,
                                                    int64_t now_ms,
                                                    const std::function<void(PaymentJob*)>& decide,
                                                    std::vector<PaymentJob>* jobs) {
  if (!ends.empty()) {
    const Status written = write_ends(ends, ended);
    if (written != Status::ok) {
      connection_->rollback();
      return written;
    }
  }
  const Status leased = claims_max > 0 ? lease_due(now_ms, lease_until_ms, claims_max, decide, jobs)
                                       : Status(Status::refused);
  if (leased != Status::ok && leased != Status::refused) {
    connection_->rollback();
    return leased;
  }
  // Nothing written (another claimer took what was due between the look and the claim).
  if (ends.empty() && leased == Status::refused) {
    connection_->rollback();
    return Status::refused;
  }
  const Status committed = connection_->commit();
  if (committed != Status::ok) return committed;
  return jobs->empty() ? Status::refused : Status::ok;
}

Status PostgresPaymentsConnection::write_ends(const std::vector<AttemptEnd>& ends,
                                              std::vector<Status>* ended) {
  IntArray ids, tokens, settled, pinned, processors, requested, at;
  for (const AttemptEnd& end : ends) {
    CREBITO_ASSERT(!end.settled || end.requested_at_ms > 0);
    ids.add(end.job.id);
    tokens.add(end.job.lease_token);
    settled.add(end.settled ? 1 : 0);
    pinned.add(!end.settled && end.pinned ? 1 : 0);
    processors.add(static_cast<int>(end.processor));
    requested.add(end.requested_at_ms);
    at.add(end.at_ms);
  }
  Params params;
  params.add(ids.done()).add(tokens.done()).add(settled.done()).add(pinned.done());
  params.add(processors.done()).add(requested.done()).add(at.done());
  Result written;
  const Status status = connection_->exec(end_name, params, &written);
  if (status != Status::ok) return status;
  ended->assign(ends.size(), Status::refused);
  for (int row = 0; row < written.rows(); ++row) {
    const int64_t ordinal = written.integer(row, 0);
    CREBITO_ASSERT(ordinal >= 1 && ordinal <= static_cast<int64_t>(ends.size()));
    (*ended)[static_cast<size_t>(ordinal - 1)] = Status::ok;
  }
  return Status::ok;
}

// Leases up to claims_max of the most overdue payments, each as decide() says, inside the
// caller's transaction, and appends them to *jobs. refused: none is due (nothing written).
Status PostgresPaymentsConnection::lease_due(int64_t now_ms, int64_t lease_until_ms, int claims_max,
                                             const std::function<void(PaymentJob*)>& decide,
                                             std::vector<PaymentJob>* jobs) {
  Result due;
  Params select;
  select.add(now_ms).add(int64_t{claims_max});
  const Status selected = connection_->exec(select_due_name, select, &due);
  if (selected != Status::ok) return selected;
  if (due.rows() == 0) return Status::refused;

  IntArray ids, pinned, processors, requested, attempts, tokens;
  for (int row = 0; row < due.rows(); ++row) {
    PaymentJob job;
    job.id = due.integer(row, 0);
    job.correlation_id = std::string(due.text(row, 1));
    job.amount_cents = due.integer(row, 2);
    job.state = static_cast<PaymentState>(due.integer(row, 3));
    job.pinned = due.integer(row, 4) != 0;
    if (!due.is_null(row, 5)) job.processor = processor_from_column(due.integer(row, 5));
    job.requested_at_ms = due.is_null(row, 6) ? 0 : due.integer(row, 6);
    job.attempts = static_cast<int>(due.integer(row, 7));
    CREBITO_ASSERT(job.state != PaymentState::settled);

    const int attempts_before = job.attempts;
    decide(&job);
    CREBITO_ASSERT(job.attempts == attempts_before + 1);
    CREBITO_ASSERT(job.processor.has_value());
    CREBITO_ASSERT(job.requested_at_ms > 0);
    job.lease_token = next_token();
    job.state = PaymentState::leased;
    ids.add(job.id);
    pinned.add(job.pinned ? 1 : 0);
    processors.add(static_cast<int>(*job.processor));
    requested.add(job.requested_at_ms);
    attempts.add(job.attempts);
    tokens.add(job.lease_token);
    jobs->push_back(std::move(job));
  }
  Params lease;
  lease.add(lease_until_ms).add(ids.done()).add(pinned.done()).add(processors.done());
  lease.add(requested.done()).add(attempts.done()).add(tokens.done());
  Result leased;
  const Status status = connection_->exec(lease_name, lease, &leased);
  if (status != Status::ok) return status;
  // The rows are locked by this transaction since the SELECT: each is updated.
  CREBITO_ASSERT(leased.rows_affected() == static_cast<int64_t>(jobs->size()));
  return Status::ok;
}

Status PostgresPaymentsConnection::summary(int64_t from_ms, int64_t to_ms, int64_t settled_until_ms,
                                           std::array<ProcessorTotals, processor_count>* totals,
                                           int64_t* in_flight) {
  *totals = {};
  *in_flight = 0;
  if (from_ms > to_ms) return Status::ok;
  Params params;
  params.add(from_ms).add(to_ms).add(settled_until_ms);
  Result rows;
  const Status status = connection_->exec(summary_name, params, &rows);
  if (status != Status::ok) return report(FaultLog::Kind::read, status);
  for (int row = 0; row < rows.rows(); ++row) {
    if (rows.integer(row, 0) == 1) {
      *in_flight = rows.integer(row, 2);
      continue;
    }
    const Processor processor = processor_from_column(rows.integer(row, 1));
    (*totals)[processor_index(processor)] = {rows.integer(row, 2), rows.integer(row, 3)};
  }
  return report(FaultLog::Kind::read, Status::ok);
}

Status PostgresPaymentsConnection::counts(QueueCounts* out) {
  Result rows;
  const Status status = connection_->exec(counts_name, Params(), &rows);
  if (status != Status::ok) return report(FaultLog::Kind::read, status);
  CREBITO_ASSERT(rows.rows() == 1);
  out->accepted = rows.integer(0, 0);
  out->queued = rows.integer(0, 1);
  out->pinned = rows.integer(0, 2);
  out->in_flight = rows.integer(0, 3);
  out->retried = rows.integer(0, 4);
  out->settled = {rows.integer(0, 5), rows.integer(0, 6)};
  out->oldest_unsettled_accepted_ms = rows.integer(0, 7);
  CREBITO_ASSERT(out->queued + out->in_flight + out->settled[0] + out->settled[1] == out->accepted);
  return report(FaultLog::Kind::read, Status::ok);
}

Status PostgresPaymentsConnection::purge() {
  Status status = write_one(purge_name, Params());
  if (status == Status::refused) return Status::ok;  // Refused: it was empty already.
  return status;
}

Status PostgresPaymentsConnection::take_lease(const std::string& name, const std::string& owner,
                                              int64_t now_ms, int64_t until_ms) {
  CREBITO_ASSERT(until_ms > now_ms);
  Params params;
  params.add(name).add(owner).add(now_ms).add(until_ms);
  return write_one(take_lease_name, params);
}

Status PostgresPaymentsConnection::read_health(std::array<HealthRow, processor_count>* rows) {
  *rows = {};
  Result result;
  const Status status = connection_->exec(read_health_name, Params(), &result);
  if (status != Status::ok) return report(FaultLog::Kind::read, status);
  for (int row = 0; row < result.rows(); ++row) {
    const Processor processor = processor_from_column(result.integer(row, 0));
    (*rows)[processor_index(processor)] = {result.integer(row, 1) != 0, result.integer(row, 2),
                                           result.integer(row, 3)};
  }
  return report(FaultLog::Kind::read, Status::ok);
}

Status PostgresPaymentsConnection::write_health(Processor processor, const HealthRow& row) {
  Params params;
  params.add(int64_t{static_cast<int>(processor)})
      .add(int64_t{row.failing ? 1 : 0})
      .add(row.min_response_ms)
      .add(row.checked_ms);
  Status status = write_one(write_health_name, params);
  if (status == Status::refused) return Status::ok;
  return status;
}

// ---- PostgresPaymentsStore ----

Status PostgresPaymentsStore::open(const std::string& uri, int sessions,
                                   std::unique_ptr<PostgresPaymentsStore>* store) {
  CREBITO_ASSERT(sessions > 0);
  std::unique_ptr<PostgresPaymentsStore> opened(new PostgresPaymentsStore());
  for (int i = 0; i < sessions; ++i) {
    std::string error;
    std::unique_ptr<PostgresPaymentsConnection> session =
        PostgresPaymentsConnection::open(uri, &error, &opened->fault_log_);
    if (!session) return {Status::unavailable, redact_uri(uri) + ": " + error};
    opened->free_.push_back(session.get());
    opened->sessions_.push_back(std::move(session));
  }
  *store = std::move(opened);
  return Status::ok;
}

PostgresPaymentsStore::~PostgresPaymentsStore() = default;

PaymentsSession* PostgresPaymentsStore::borrow() {
  std::unique_lock<std::mutex> lock(free_mutex_);
  free_changed_.wait(lock, [this] { return !free_.empty(); });
  PostgresPaymentsConnection* session = free_.back();
  free_.pop_back();
  return session;
}

void PostgresPaymentsStore::give_back(PaymentsSession* session) {
  {
    std::lock_guard<std::mutex> lock(free_mutex_);
    CREBITO_ASSERT(free_.size() < sessions_.size());
    free_.push_back(static_cast<PostgresPaymentsConnection*>(session));
  }
  free_changed_.notify_one();
}

}  // namespace store
