// The payments store on PostgreSQL (the seam: store/payments_store.h; the tables:
// schema-postgresql.sql, "Payments"). Every instance, on any host, shares the queue, the leases
// and the processors' health through the database.
//
// store::PostgresPaymentsConnection is a PaymentsSession on one libpq connection (store::pg::
// Connection: prepared statements, errors as values, reconnects by itself at its next use once
// the server is back). store::PostgresPaymentsStore lends them to the face's threads.
//
// Design notes — how the store keeps the exactly-once rules (payments_store.h) between instances
// that share no lock but the database's:
//   1. A claim is one transaction: SELECT the most overdue rows (queued and due, or leased with an
//      expired lease) ... FOR UPDATE SKIP LOCKED, so concurrent claimers of any instance skip the
//      rows another is taking instead of waiting for it or taking them too; then lease them all
//      under fresh random tokens in one UPDATE.
//   2. The outcomes written in the same transaction are one UPDATE whose WHERE names each row's
//      lease token and state leased: PostgreSQL re-checks it on the row's newest version once it
//      holds the row lock (READ COMMITTED), so an outcome whose lease was taken over writes
//      nothing, even when the takeover commits while the outcome waits for the lock. Several
//      outcomes for one row are written as one after the other would be: the first whose lease
//      holds.
//   3. The summary and the counts are single statements, so each reads one snapshot.
//   4. Every failure answers busy or unavailable and leaves nothing of the transaction written;
//      a connection lost while a write commits (the server stopped at that moment) leaves unknown
//      whether it committed (pg_connection.h, invariant 2). For an attempt's end or a claim this
//      is safe either way (a lease no one uses expires and its payment is claimed again as an
//      unknown outcome); an accept answered 503 in that window may still be forwarded.
//   5. Storage faults go to the store's FaultLog (one line when reads or writes start failing, one
//      when they work again), as with SQLite.
// A session is used by one thread at a time; the store is thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "crebito_limits.h"
#include "store/fault_log.h"
#include "store/payments_store.h"
#include "store/postgres/pg_connection.h"

namespace store {

class PostgresPaymentsConnection final : public PaymentsSession {
 public:
  // Connects to uri (schema already applied: store/postgres/schema.h) and prepares the payments
  // statements. nullptr and *error on failure. fault_log, if given, must outlive the connection.
  static std::unique_ptr<PostgresPaymentsConnection> open(const std::string& uri,
                                                          std::string* error,
                                                          FaultLog* fault_log = nullptr);
  ~PostgresPaymentsConnection() override;
  PostgresPaymentsConnection(const PostgresPaymentsConnection&) = delete;
  PostgresPaymentsConnection& operator=(const PostgresPaymentsConnection&) = delete;

  Status accept(const std::string& correlation_id, int64_t amount_cents, int64_t now_ms) override;
  Status summary(int64_t from_ms, int64_t to_ms, int64_t settled_until_ms,
                 std::array<ProcessorTotals, processor_count>* totals, int64_t* in_flight) override;
  Status counts(QueueCounts* out) override;
  Status purge() override;
  Status take_lease(const std::string& name, const std::string& owner, int64_t now_ms,
                    int64_t until_ms) override;
  Status read_health(std::array<HealthRow, processor_count>* rows) override;
  Status write_health(Processor processor, const HealthRow& row) override;

 protected:
  Status end_and_claim_checked(const std::vector<AttemptEnd>& ends, std::vector<Status>* ended,
                               int64_t now_ms, int64_t lease_until_ms, int claims_max,
                               const std::function<void(PaymentJob*)>& decide,
                               std::vector<PaymentJob>* jobs) override;

 private:
  PostgresPaymentsConnection(std::unique_ptr<pg::Connection> connection, FaultLog* fault_log);
  // The transaction of end_and_claim(), begun; commits or rolls back.
  Status end_and_claim_in(const std::vector<AttemptEnd>& ends, std::vector<Status>* ended,
                          int64_t lease_until_ms, int claims_max, int64_t now_ms,
                          const std::function<void(PaymentJob*)>& decide,
                          std::vector<PaymentJob>* jobs);
  Status write_ends(const std::vector<AttemptEnd>& ends, std::vector<Status>* ended);
  Status lease_due(int64_t now_ms, int64_t lease_until_ms, int claims_max,
                   const std::function<void(PaymentJob*)>& decide, std::vector<PaymentJob>* jobs);
  // One autocommit write: ok when a row changed, refused when none did.
  Status write_one(const char* statement, const pg::Params& params);
  // Reports an operation's status to the fault log (invariant 5) and returns it; a constraint
  // failure (conflict: none of ours reaches one) is answered as unavailable.
  Status report(FaultLog::Kind kind, Status status);
  int64_t next_token();

  const std::unique_ptr<pg::Connection> connection_;
  FaultLog* const fault_log_;  // May be null: no reports.
  uint64_t token_state_ = 0;
};

class PostgresPaymentsStore final : public PaymentsStore {
 public:
  // Opens `sessions` connections to uri (schema already applied), into *store: one per thread
  // that may borrow at once. unavailable, naming the URI (its password hidden), when PostgreSQL
  // cannot be reached or a statement does not prepare. Later, a session whose connection was lost
  // reconnects at its next use.
  static Status open(const std::string& uri, int sessions,
                     std::unique_ptr<PostgresPaymentsStore>* store);
  ~PostgresPaymentsStore() override;
  int rows_per_round() const override { return limits::pg_payment_dispatch_rows_max; }

 protected:
  PaymentsSession* borrow() override;
  void give_back(PaymentsSession* session) override;

 private:
  PostgresPaymentsStore() = default;

  FaultLog fault_log_;  // Shared by the sessions; declared first, destroyed last.
  std::vector<std::unique_ptr<PostgresPaymentsConnection>> sessions_;  // Constant after open().
  std::mutex free_mutex_;
  std::condition_variable free_changed_;
  std::vector<PostgresPaymentsConnection*> free_;  // Guarded by free_mutex_.
};

}  // namespace store
