// store::PaymentsConnection owns one SQLite connection to the shared file for the payments face:
// the durable queue, the settled payments, the health lease and the processors' health
// (schema.sql, "Payments"). It knows SQL, not the forwarding rules: claim() hands the due row to a
// caller-supplied decision and writes back what it decides, inside one transaction.
//
// Design notes — the invariants this layer keeps:
//   1. Every write runs in BEGIN IMMEDIATE or is one autocommit statement (same as ledger rows).
//   2. A payment is leased to at most one worker at a time: claim() selects and leases the row in
//      one write transaction, and every later write about that attempt names the lease token; a
//      worker whose lease was taken over writes nothing.
//   3. A settled row never changes again (except by purge): settle() and requeue() only touch
//      rows in state leased with the caller's token.
//   4. A connection is used by one thread at a time (opened SQLITE_OPEN_NOMUTEX).
//   5. Every write takes the process's WriterLock first, as the ledger's do.
// Opening, the PRAGMAs, busy waits, rollbacks and storage faults are the SQLite core's
// (store/database.h), the same for this connection as for the ledger's: in particular no commit
// here ever runs a WAL checkpoint, every operation first checks that the file was not removed or
// replaced (answering `unavailable` if it was; a PaymentsPool then replaces the connection), and
// faults are reported to the pool's FaultLog.
// Errors are values (store::Status); no SQLiteCpp exception leaves this layer.
#pragma once

#include <SQLiteCpp/Statement.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"
#include "store/writer_lock.h"

namespace store {

// The values are the `state` and `processor` columns' (schema.sql).
enum class PaymentState : int { queued = 0, leased = 1, settled = 2 };
enum class Processor : int { default_processor = 0, fallback = 1 };
inline constexpr int processor_count = 2;

// A processor's place in arrays of processor_count entries (totals, health rows, counts).
inline constexpr size_t processor_index(Processor processor) {
  return static_cast<size_t>(processor);
}

// A due payment as claim() finds it, and the attempt the caller decides to make.
struct PaymentJob {
  int64_t id = 0;
  std::string correlation_id;
  int64_t amount_cents = 0;
  PaymentState state = PaymentState::queued;  // leased here means its lease expired.
  bool pinned = false;
  std::optional<Processor> processor;  // None when no attempt was made yet.
  int64_t requested_at_ms = 0;
  int attempts = 0;
  int64_t lease_token = 0;
};

struct ProcessorTotals {
  int64_t requests = 0;
  int64_t amount_cents = 0;
};

struct HealthRow {
  bool failing = false;
  int64_t min_response_ms = 0;
  int64_t checked_ms = 0;
};

struct QueueCounts {
  int64_t accepted = 0;
  int64_t queued = 0;
  int64_t pinned = 0;  // Queued or leased with an unknown earlier outcome.
  int64_t in_flight = 0;
  int64_t retried = 0;  // Payments that needed more than one attempt.
  std::array<int64_t, processor_count> settled = {0, 0};  // By processor_index.
  int64_t oldest_unsettled_accepted_ms = 0;               // 0 when nothing is unsettled.
};

class PaymentsConnection {
 public:
  // Opens the database (schema already applied). nullptr and *error on failure.
  // REQUIRES: writer_lock is the process's WriterLock for the file (WriterLock::open) and outlives
  // the connection. Every write takes it, as the ledger's do: writers of both faces and of both
  // processes then hand the database's write lock over by a futex wake-up, never by polling.
  // fault_log, if given, must outlive the connection.
  static std::unique_ptr<PaymentsConnection> open(const Options& options, WriterLock* writer_lock,
                                                  std::string* error,
                                                  FaultLog* fault_log = nullptr);
  ~PaymentsConnection();
  PaymentsConnection(const PaymentsConnection&) = delete;
  PaymentsConnection& operator=(const PaymentsConnection&) = delete;

  // Queues a payment, due at once. ok: queued now. refused: that correlationId was already
  // accepted (nothing written).
  Status accept(const std::string& correlation_id, int64_t amount_cents, int64_t now_ms);

  // claim(), settle() and requeue() are end_and_claim() for one payment (below).

  // Finds the most overdue payment (queued and due, or leased with an expired lease). refused when
  // there is none. Otherwise calls decide(job) inside the transaction; decide sets pinned,
  // processor, requested_at_ms and attempts of the new attempt; the row is then leased until
  // lease_until_ms under a new token, and *job holds what was written.
  Status claim(int64_t now_ms, int64_t lease_until_ms,
               const std::function<void(PaymentJob*)>& decide, PaymentJob* job);

  // Ends a leased attempt. settle: counted for processor with requested_at_ms. requeue: due again
  // at due_ms. refused: the lease is no longer ours (nothing written).
  Status settle(const PaymentJob& job, Processor processor, int64_t requested_at_ms,
                int64_t now_ms);
  Status requeue(const PaymentJob& job, bool pinned, Processor processor, int64_t requested_at_ms,
                 int64_t due_ms);

  // How a leased attempt ends, as settle() or requeue() would write it.
  struct AttemptEnd {
    PaymentJob job;  // As claim() leased it: its id and lease token name the row.
    bool settled = false;
    bool pinned = false;  // Requeued only.
    Processor processor = Processor::default_processor;
    int64_t requested_at_ms = 0;
    int64_t at_ms = 0;  // Settled: when. Requeued: due again then.
  };

  // Writes how each of several leased attempts ended, then claim()s up to claims_max payments
  // (the most overdue first, each as decide() says), all in one transaction: the outcomes of many
  // calls and the next payments for many workers take the write lock once. ok: *jobs holds the
  // payments leased (at least one); refused: none was due. Either way, what ends said was
  // committed, and (*ended)[i] is the status of ends[i] (ok, or refused: that lease was no longer
  // ours). busy or unavailable: nothing was written.
  Status end_and_claim(const std::vector<AttemptEnd>& ends, std::vector<Status>* ended,
                       int64_t now_ms, int64_t lease_until_ms, int claims_max,
                       const std::function<void(PaymentJob*)>& decide,
                       std::vector<PaymentJob>* jobs);

  // Payments settled by settled_until_ms with from_ms <= requested_at_ms <= to_ms, by processor;
  // *in_flight counts leased attempts whose requestedAt lies in the same range. One snapshot.
  Status summary(int64_t from_ms, int64_t to_ms, int64_t settled_until_ms,
                 std::array<ProcessorTotals, processor_count>* totals, int64_t* in_flight);

  Status counts(QueueCounts* out);

  // Deletes every payment and queued job.
  Status purge();

  // Takes or renews the named lease for owner until until_ms. refused: another owner holds it.
  Status take_lease(const std::string& name, const std::string& owner, int64_t now_ms,
                    int64_t until_ms);

  // By processor_index.
  Status read_health(std::array<HealthRow, processor_count>* rows);
  Status write_health(Processor processor, const HealthRow& row);

  // What a pool checks before it lends a connection it opened on a restored file: the file's
  // payments tables can be read.
  bool holds_data();

  const std::string& last_error() const { return db_.last_error(); }

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

 private:
  PaymentsConnection(const Options& options, WriterLock* writer_lock, FaultLog* fault_log);
  // The checks and the report around one autocommit write: takes the writer lock, checks for a
  // moved file, runs the bound statement; ok when a row changed, refused when none did.
  Status write_one(SQLite::Statement& statement, const char* step);
  Status run_write(SQLite::Statement& statement, const char* step, bool* changed);
  Status end_one(const AttemptEnd& end);  // settle() and requeue().
  // The parts of the writes above, for a caller that holds the writer lock (and, for lease_due,
  // has begun the transaction).
  Status write_end(const AttemptEnd& end);
  Status lease_due(int64_t now_ms, int64_t lease_until_ms, int claims_max,
                   const std::function<void(PaymentJob*)>& decide, std::vector<PaymentJob>* jobs);
  // Whether a payment is due (a read, no lock); *status says whether the read itself failed.
  bool any_due(int64_t now_ms, Status* status);
  Status end_and_claim_checked(const std::vector<AttemptEnd>& ends, std::vector<Status>* ended,
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
