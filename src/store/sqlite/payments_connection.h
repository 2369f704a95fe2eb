// The payments store on SQLite (the seam: store/payments_store.h).
//
// store::SqlitePaymentsConnection is a PaymentsSession on one SQLite connection to the shared file:
// the durable queue, the settled payments, the health lease and the processors' health (schema.sql,
// "Payments"). It knows SQL, not the forwarding rules: a claim hands the due row to a
// caller-supplied decision and writes back what it decides, inside one transaction.
// store::SqlitePaymentsStore (store/sqlite/payments_store.h) lends them to every thread of the
// payments face: request threads, the dispatcher and the health poller.
//
// Design notes — the invariants this layer keeps:
//   1. Every write runs in BEGIN IMMEDIATE or is one autocommit statement (same as ledger rows).
//   2. A payment is leased to at most one worker at a time: a claim selects and leases the row in
//      one write transaction, and every later write about that attempt names the lease token; a
//      worker whose lease was taken over writes nothing.
//   3. A settled row never changes again (except by purge): an attempt's end (settled or
//      requeued) only touches a row in state leased with the caller's token.
//   4. A connection is used by one thread at a time (opened SQLITE_OPEN_NOMUTEX).
//   5. Every write takes the process's WriterLock first, as the ledger's do.
// Opening, the PRAGMAs, busy waits, rollbacks and storage faults are the SQLite core's
// (store/sqlite/database.h), the same for this connection as for the ledger's: in particular no
// commit here ever runs a WAL checkpoint, every operation first checks that the file was not
// removed or replaced (answering `unavailable` if it was; the store's pool then replaces the
// connection at its next loan), and faults are reported to the pool's FaultLog. Errors are values
// (store::Status); no SQLiteCpp exception leaves this layer.
#pragma once

#include <SQLiteCpp/Statement.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "crebito_limits.h"
#include "store/payments_store.h"
#include "store/sqlite/database.h"
#include "store/sqlite/writer_lock.h"

namespace store {

class SqlitePaymentsConnection final : public PaymentsSession {
 public:
  // Opens the database (schema already applied). nullptr and *error on failure.
  // REQUIRES: writer_lock is the process's WriterLock for the file (WriterLock::open) and outlives
  // the connection. Every write takes it, as the ledger's do: writers of both faces and of both
  // processes then hand the database's write lock over by a futex wake-up, never by polling.
  // fault_log, if given, must outlive the connection.
  static std::unique_ptr<SqlitePaymentsConnection> open(const Options& options,
                                                        WriterLock* writer_lock, std::string* error,
                                                        FaultLog* fault_log = nullptr);
  ~SqlitePaymentsConnection() override;
  SqlitePaymentsConnection(const SqlitePaymentsConnection&) = delete;
  SqlitePaymentsConnection& operator=(const SqlitePaymentsConnection&) = delete;

  // The payments operations (store/payments_store.h).
  Status accept(const std::string& correlation_id, int64_t amount_cents, int64_t now_ms) override;
  Status summary(int64_t from_ms, int64_t to_ms, int64_t settled_until_ms,
                 std::array<ProcessorTotals, processor_count>* totals, int64_t* in_flight) override;
  Status counts(QueueCounts* out) override;
  Status purge() override;
  Status take_lease(const std::string& name, const std::string& owner, int64_t now_ms,
                    int64_t until_ms) override;
  Status read_health(std::array<HealthRow, processor_count>* rows) override;
  Status write_health(Processor processor, const HealthRow& row) override;

  // A write transaction kept open across accepts that arrive one by one (SqlitePaymentsStore's
  // turns): begin_write() runs BEGIN IMMEDIATE; accept_in_write() adds one accept (ok or refused,
  // as accept(); any other status: the transaction was rolled back, nothing of it is written);
  // commit_write() commits, or rolls back and fails. Each checks for a moved file first (the
  // commit too: a commit into a removed file would be acknowledged and lost) and reports to the
  // fault log as the other writes do.
  // REQUIRES: the calling thread holds the writer lock from begin_write() to the end.
  Status begin_write();
  Status accept_in_write(const std::string& correlation_id, int64_t amount_cents, int64_t now_ms);
  Status commit_write();

  // What a pool checks before it lends a connection it opened on a restored file: the file's
  // payments tables can be read.
  bool holds_data();

  // True when the database path no longer names the file this connection has open (removed,
  // renamed or replaced). Such a connection only ever answers `unavailable`; reopen it.
  bool file_moved() { return db_.file_moved(); }

  // Reads an integer or text PRAGMA back, so tests can check what open() set.
  std::string test_pragma(const char* name) { return db_.test_pragma(name); }

  // SQLite's own counters (sqlite3_stmt_status) for the two due-work queries (the idle look and
  // the claim's select), summed since this connection was opened: tests check with them that the
  // queries read the payments_due index (no step of a full scan, no sort) whatever the backlog.
  struct QueryCost {
    int64_t fullscan_steps = 0;
    int64_t sorts = 0;
    int64_t vm_steps = 0;
  };
  QueryCost test_due_query_cost();

 protected:
  Status end_and_claim_checked(const std::vector<AttemptEnd>& ends, std::vector<Status>* ended,
                               int64_t now_ms, int64_t lease_until_ms, int claims_max,
                               const std::function<void(PaymentJob*)>& decide,
                               std::vector<PaymentJob>* jobs) override;

 private:
  SqlitePaymentsConnection(const Options& options, WriterLock* writer_lock, FaultLog* fault_log);
  // The checks and the report around one autocommit write: takes the writer lock, checks for a
  // moved file, runs the bound statement; ok when a row changed, refused when none did.
  Status write_one(SQLite::Statement& statement, const char* step);
  void bind_accept(const std::string& correlation_id, int64_t amount_cents, int64_t now_ms);
  Status run_write(SQLite::Statement& statement, const char* step, bool* changed);
  // The parts of the writes above, for a caller that holds the writer lock (and, for lease_due,
  // has begun the transaction).
  Status write_end(const AttemptEnd& end);
  Status lease_due(int64_t now_ms, int64_t lease_until_ms, int claims_max,
                   const std::function<void(PaymentJob*)>& decide, std::vector<PaymentJob>* jobs);
  // Whether a payment is due (a read, no lock); *status says whether the read itself failed.
  bool any_due(int64_t now_ms, Status* status);
  Status end_and_claim_locked(const std::vector<AttemptEnd>& ends, std::vector<Status>* ended,
                              int64_t now_ms, int64_t lease_until_ms, int claims_max,
                              const std::function<void(PaymentJob*)>& decide,
                              std::vector<PaymentJob>* jobs);
  Status summary_checked(int64_t from_ms, int64_t to_ms, int64_t settled_until_ms,
                         std::array<ProcessorTotals, processor_count>* totals, int64_t* in_flight);
  Status counts_checked(QueueCounts* out);
  Status read_health_checked(std::array<HealthRow, processor_count>* rows);

  // Constant after construction.
  Database db_;  // First: the statements below are prepared on it.
  WriterLock* const writer_lock_;
  SQLite::Statement insert_;
  SQLite::Statement any_due_;
  SQLite::Statement select_due_;
  SQLite::Statement lease_;
  SQLite::Statement settle_;
  SQLite::Statement requeue_;
  SQLite::Statement summary_;
  SQLite::Statement in_flight_;
  SQLite::Statement counts_;
  SQLite::Statement purge_;
  SQLite::Statement take_lease_;
  SQLite::Statement read_health_;
  SQLite::Statement write_health_;

  // Used by the owning thread only.
  uint64_t token_state_ = 0;
};

}  // namespace store
