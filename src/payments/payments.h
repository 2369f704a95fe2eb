// payments::Payments is the payments face's request side (docs/PAYMENTS.md): it accepts payments
// into the durable queue, reads the global summary, purges, and reports the queue's state. It
// knows the rules of those answers, not HTTP and not SQL. Forwarding happens in forwarder.h.
//
// Thread-safe: any number of request threads may call it at once (each call borrows a session
// from the store, store/payments_store.h, which also replaces or reconnects a session whose
// database went away, and logs storage faults once per episode). A payment accepted here wakes a
// forwarding worker of this instance through the hook set with on_accepted(), once it is
// committed: at once outside a turn, at end_turn() inside one.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "store/payments_store.h"

namespace payments {

enum class [[nodiscard]] Outcome{
    ok,
    invalid_payment,  // Not a payment: correlationId not a UUID, or amount breaks amount.h.
    invalid_range,    // A summary bound is not an ISO-8601 UTC time (clock.h).
    unavailable,      // The database cannot be written or read now; nothing was written.
};

struct Totals {
  int64_t requests = 0;
  int64_t amount_cents = 0;
};

struct Summary {
  Totals default_totals;
  Totals fallback_totals;
};

// The queue as operators see it (GET /payments-consistency), from one snapshot.
struct Consistency {
  int64_t accepted = 0;
  int64_t queued = 0;
  int64_t in_flight = 0;
  int64_t pinned = 0;   // Unsettled with an unknown earlier outcome (forwarding.h).
  int64_t retried = 0;  // Payments that needed more than one attempt.
  int64_t settled_default = 0;
  int64_t settled_fallback = 0;
  int64_t oldest_unsettled_accepted_ms = 0;  // 0 when nothing is unsettled.
  int64_t oldest_unsettled_age_ms = 0;       // 0 when nothing is unsettled.
};

class Payments {
 public:
  // REQUIRES: store outlives this object, and lends a session to every thread that may call it
  // at once (besides the forwarder's, Forwarder::sessions_borrowed).
  explicit Payments(store::PaymentsStore* store);

  // Queues the payment (ok also when that correlationId was already accepted: it is forwarded
  // once). REQUIRES: valid_correlation_id(correlation_id) and the amount within limits.
  Outcome accept(const std::string& correlation_id, int64_t amount_cents);

  // Payments settled by the time of the call (the processor's answer arrived by then) with
  // from_ms <= requestedAt <= to_ms. Waits a bounded time for answers in the range that arrived
  // and are not yet written, so a payment a processor recorded before the call is counted.
  Outcome summary(int64_t from_ms, int64_t to_ms, Summary* out);

  Outcome purge();
  Outcome consistency(Consistency* out);

  // Called after each newly accepted payment is committed (from the request thread); in a turn,
  // once at end_turn() when the turn queued any.
  void on_accepted(std::function<void()> hook) { on_accepted_ = std::move(hook); }

  // Turns, one per wake-up of an event-loop thread (http/event_loop.h; the store's turns,
  // store/payments_store.h): between begin_turn() and end_turn() the calling thread's accepts
  // may share one transaction, the turn's. Their outcomes are final only if end_turn() returns
  // true; when it returns false, nothing of the turn's transaction was written and every request
  // for which answered_from_turn() said true must be answered 503 instead. answered_from_turn()
  // is asked once after each request. end_turn() wakes the forwarding workers after the commit,
  // so that a worker never looks for a payment before it can see it.
  void begin_turn();
  bool end_turn();
  bool answered_from_turn() { return store_->answered_from_turn(); }

 private:
  static Outcome unavailable(const store::Status& status, const char* what);

  std::function<void()> on_accepted_;  // Set before serving; constant after.
  store::PaymentsStore* const store_;
};

// 36 characters, 8-4-4-4-12 hexadecimal digits (either case).
bool valid_correlation_id(std::string_view text);

// Lower case, so "ABC…" and "abc…" (the same UUID to a processor) are one payment here too.
std::string normalized_correlation_id(std::string_view text);

}  // namespace payments
