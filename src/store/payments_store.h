// The payments face's store seam: what the face asks of the durable queue, the settled payments,
// the named leases and the processors' shared health, whatever database holds them.
//
//   - store::PaymentsSession: one connection's worth of payments operations, used by one thread at
//     a time. Two implementations, chosen at start by --store (store/location.h):
//     store::SqlitePaymentsConnection (SQLite, store/sqlite/payments_connection.h) and
//     store::PostgresPaymentsConnection (PostgreSQL, store/postgres/payments_store.h).
//   - store::PaymentsStore: lends sessions to the face's threads (request threads, the dispatcher,
//     the health poller), and accepts payments, alone or in the calling thread's turn. Thread-safe.
//     A session whose database went away (a moved SQLite file, a lost PostgreSQL connection)
//     answers `unavailable`; the store replaces or reconnects it, so a borrower that asks again
//     later is served once the database is back.
//
// Turns (PaymentsStore's begin_turn / end_turn / answered_from_turn, the same contract as the
// ledger's, store/ledger_store.h) are how an event-loop thread commits all the accepts of one
// wake-up together (http/event_loop.h, TurnHooks). SQLite shares one transaction per wake-up
// (store/sqlite/payments_store.h, SqlitePaymentsStore); PostgreSQL does not: each accept
// commits alone, end_turn() is always true and no request is answered from the turn.
//   - Between begin_turn() and end_turn() the calling thread's accepts are final only if
//     end_turn() returns true; when it returns false, nothing of the turn's transaction was
//     written (none of its payments will be forwarded) and every request for which
//     answered_from_turn() said true must be answered 503 instead (the others keep their answers:
//     they committed on their own).
//   - answered_from_turn() is asked once after each request, and clears the answer.
//   - Only accept() joins the turn; summary, purge and the forwarder's rounds (end_and_claim) keep
//     their own transactions.
//
// The exactly-once rules every implementation keeps (docs/PAYMENTS.md, src/payments/forwarding.h):
//   1. A payment is leased to at most one worker at a time: a claim selects and leases the row in
//      one transaction under a fresh lease token, and every later write about that attempt names
//      the token; an outcome whose lease was taken over writes nothing (refused).
//   2. A settled payment never changes again (except by purge).
//   3. The summary counts payments settled by a given time, so a call still in flight is counted
//      once it settles, never twice and never for the wrong processor.
//   4. Every status other than ok and refused means nothing was written.
// Errors are values (store::Status, a failure's message in it); no exception leaves a session.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "check.h"
#include "store/location.h"
#include "store/status.h"

namespace store {

// The values are the `state` and `processor` columns' (schema.sql, schema-postgresql.sql).
enum class PaymentState : int { queued = 0, leased = 1, settled = 2 };
enum class Processor : int { default_processor = 0, fallback = 1 };
inline constexpr int processor_count = 2;

// A processor's place in arrays of processor_count entries (totals, health rows, counts).
inline constexpr size_t processor_index(Processor processor) {
  return static_cast<size_t>(processor);
}

// Both engines' SQL spells PaymentState and Processor as the numbers the columns hold, in the
// same terms as their schemas' partial indexes (`state < 2`: queued or leased, i.e. unsettled), so
// that the planner uses them.
static_assert(static_cast<int>(PaymentState::queued) == 0);
static_assert(static_cast<int>(PaymentState::leased) == 1);
static_assert(static_cast<int>(PaymentState::settled) == 2);
static_assert(static_cast<int>(Processor::default_processor) == 0);
static_assert(static_cast<int>(Processor::fallback) == 1);

// A processor column's value; the schemas' CHECK constraints allow no other.
inline Processor processor_from_column(int64_t value) {
  CREBITO_ASSERT(value == 0 || value == 1);
  return static_cast<Processor>(value);
}

// A due payment as a claim finds it, and the attempt the caller decides to make.
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

class PaymentsSession {
 public:
  virtual ~PaymentsSession() = default;

  // Queues a payment, due at once. ok: queued now. refused: that correlationId was already
  // accepted (nothing written).
  virtual Status accept(const std::string& correlation_id, int64_t amount_cents,
                        int64_t now_ms) = 0;

  // How a leased attempt ends, as settle() or requeue() would write it.
  struct AttemptEnd {
    PaymentJob job;  // As the claim leased it: its id and lease token name the row.
    bool settled = false;
    bool pinned = false;  // Requeued only.
    Processor processor = Processor::default_processor;
    int64_t requested_at_ms = 0;
    int64_t at_ms = 0;  // Settled: when. Requeued: due again then.
  };

  // Writes how each of several leased attempts ended, then claims up to claims_max payments (the
  // most overdue first: queued and due, or leased with an expired lease), all in one transaction.
  // decide(job) is called inside it for each payment found; it sets pinned, processor,
  // requested_at_ms and attempts (+1) of the new attempt; the row is then leased until
  // lease_until_ms under a new token. ok: *jobs holds the payments leased (at least one);
  // refused: none was due. Either way, what ends said was committed, and (*ended)[i] is the
  // status of ends[i] (ok, or refused: that lease was no longer ours). busy or unavailable:
  // nothing was written.
  Status end_and_claim(const std::vector<AttemptEnd>& ends, std::vector<Status>* ended,
                       int64_t now_ms, int64_t lease_until_ms, int claims_max,
                       const std::function<void(PaymentJob*)>& decide,
                       std::vector<PaymentJob>* jobs);

  // end_and_claim() for one payment. claim: refused when none is due; *job holds what was
  // written. settle: counted for processor with requested_at_ms. requeue: due again at due_ms.
  // refused: the lease is no longer ours (nothing written).
  Status claim(int64_t now_ms, int64_t lease_until_ms,
               const std::function<void(PaymentJob*)>& decide, PaymentJob* job);
  Status settle(const PaymentJob& job, Processor processor, int64_t requested_at_ms,
                int64_t now_ms);
  Status requeue(const PaymentJob& job, bool pinned, Processor processor, int64_t requested_at_ms,
                 int64_t due_ms);

  // Payments settled by settled_until_ms with from_ms <= requested_at_ms <= to_ms, by processor;
  // *in_flight counts leased attempts whose requestedAt lies in the same range. One snapshot.
  virtual Status summary(int64_t from_ms, int64_t to_ms, int64_t settled_until_ms,
                         std::array<ProcessorTotals, processor_count>* totals,
                         int64_t* in_flight) = 0;

  // The queue's state, from one snapshot.
  virtual Status counts(QueueCounts* out) = 0;

  // Deletes every payment and queued job.
  virtual Status purge() = 0;

  // Takes or renews the named lease for owner until until_ms. refused: another owner holds it.
  virtual Status take_lease(const std::string& name, const std::string& owner, int64_t now_ms,
                            int64_t until_ms) = 0;

  // By processor_index.
  virtual Status read_health(std::array<HealthRow, processor_count>* rows) = 0;
  virtual Status write_health(Processor processor, const HealthRow& row) = 0;

 protected:
  // end_and_claim() in the engine, once its arguments are checked, *jobs is empty and every
  // (*ended)[i] is unavailable.
  virtual Status end_and_claim_checked(const std::vector<AttemptEnd>& ends,
                                       std::vector<Status>* ended, int64_t now_ms,
                                       int64_t lease_until_ms, int claims_max,
                                       const std::function<void(PaymentJob*)>& decide,
                                       std::vector<PaymentJob>* jobs) = 0;
};

class PaymentsStore {
 public:
  // A session on loan; given back when the Lease is destroyed.
  class Lease {
   public:
    Lease(PaymentsStore* store, PaymentsSession* session) : store_(store), session_(session) {}
    ~Lease() {
      if (session_ != nullptr) store_->give_back(session_);
    }
    Lease(Lease&& other) noexcept : store_(other.store_), session_(other.session_) {
      other.session_ = nullptr;
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    PaymentsSession* operator->() const { return session_; }
    PaymentsSession& operator*() const { return *session_; }

   private:
    PaymentsStore* const store_;
    PaymentsSession* session_;
  };

  virtual ~PaymentsStore() = default;

  // The most attempt ends a dispatcher round writes, and payments it claims, in one transaction.
  virtual int rows_per_round() const = 0;

  // A session for the calling thread, ready for use (replaced or reconnected first if its
  // database went away and is back). Waits while every session is on loan: a store is opened
  // with one session per thread that may borrow at once, so in practice it never waits.
  Lease acquire() { return Lease(this, borrow()); }

  // PaymentsSession::accept(), in the calling thread's turn when the store shares one (see
  // Turns above: ok and refused are then final only once end_turn() returns true), else alone on
  // a borrowed session.
  virtual Status accept(const std::string& correlation_id, int64_t amount_cents, int64_t now_ms) {
    return acquire()->accept(correlation_id, amount_cents, now_ms);
  }

  // Turns (see above). These defaults are a store's whose accepts each commit alone.
  virtual void begin_turn() {}
  virtual bool end_turn() { return true; }
  virtual bool answered_from_turn() { return false; }

 protected:
  virtual PaymentsSession* borrow() = 0;
  virtual void give_back(PaymentsSession* session) = 0;
};

// Prepares the store `location` names (its schema, applied idempotently; safe when several
// instances start at once) and opens it into *store. On failure *store stays empty and the status
// (unavailable, or busy) says why.
Status open_payments_store(const Location& location, const OpenOptions& options,
                           std::unique_ptr<PaymentsStore>* store);

}  // namespace store
