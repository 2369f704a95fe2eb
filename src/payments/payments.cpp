#include "payments/payments.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "check.h"
#include "clock.h"
#include "crebito_limits.h"

namespace payments {

bool valid_correlation_id(std::string_view text) {
  if (text.size() != limits::correlation_id_chars) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string normalized_correlation_id(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

Payments::Payments(store::PaymentsStore* store) : store_(store) {
  CREBITO_ASSERT(store_ != nullptr);
}

// Storage faults are logged by the store's fault log, once when they start and once when they
// end; a lock wait that ran out is logged here, per request.
Outcome Payments::unavailable(const store::Status& status, const char* what) {
  CREBITO_ASSERT(status != store::Status::ok && status != store::Status::refused);
  if (status == store::Status::busy) {
    std::fprintf(stderr, "crebito: payments %s failed, answering 503: %s\n", what,
                 status.message().c_str());
  }
  return Outcome::unavailable;
}

namespace {

// The calling thread's turn: the Payments it is in (between begin_turn() and end_turn()), and
// whether an accept of it queued a payment, whose workers end_turn() wakes.
struct Turn {
  const Payments* payments = nullptr;
  bool queued = false;
};
thread_local Turn turn;

}  // namespace

void Payments::begin_turn() {
  CREBITO_ASSERT(turn.payments == nullptr);
  turn = {this, false};
  store_->begin_turn();
}

bool Payments::end_turn() {
  CREBITO_ASSERT(turn.payments == this);
  const bool committed = store_->end_turn();
  // Also when the turn's transaction was lost: an accept of the turn that committed on its own
  // may have queued a payment, and a wake-up with nothing to do costs one look.
  if (turn.queued && on_accepted_) on_accepted_();
  turn = {};
  return committed;
}

Outcome Payments::accept(const std::string& correlation_id, int64_t amount_cents) {
  CREBITO_ASSERT(valid_correlation_id(correlation_id));
  CREBITO_ASSERT(amount_cents >= limits::payment_cents_min);
  const store::Status status =
      store_->accept(normalized_correlation_id(correlation_id), amount_cents, clocks::wall_ms());
  if (status != store::Status::ok && status != store::Status::refused) {
    return unavailable(status, "accept");
  }
  if (status == store::Status::ok) {
    if (turn.payments == this) {
      turn.queued = true;  // Not committed yet: end_turn() wakes the workers.
    } else if (on_accepted_) {
      on_accepted_();
    }
  }
  return Outcome::ok;
}

Outcome Payments::summary(int64_t from_ms, int64_t to_ms, Summary* out) {
  // The processors are asked at the same moment as we are. What counts is what had settled by
  // then: a settled payment's time is when the processor's answer arrived, and the processor had
  // recorded it before answering. An answer that arrived before this moment and is not yet
  // written is a leased row in the range: waited for, a bounded time. No call lasts as long as
  // the check's offset (limits::processor_call_budget_ms), so at a check a call whose requestedAt
  // lies in the range has ended long before (docs/PAYMENTS.md, "The summary at a check").
  const int64_t settled_until_ms = clocks::wall_ms();
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(limits::summary_settle_wait_ms_max);
  std::array<store::ProcessorTotals, 2> totals;
  int64_t in_flight = 0;
  Outcome outcome = Outcome::ok;
  while (true) {
    {
      // Given back between reads: on PostgreSQL the sessions are fewer than the borrowers.
      store::PaymentsStore::Lease session = store_->acquire();
      const store::Status status =
          session->summary(from_ms, to_ms, settled_until_ms, &totals, &in_flight);
      if (status != store::Status::ok) {
        outcome = unavailable(status, "summary");
        break;
      }
    }
    if (in_flight == 0 || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(limits::summary_settle_poll_ms));
  }
  out->default_totals = {totals[0].requests, totals[0].amount_cents};
  out->fallback_totals = {totals[1].requests, totals[1].amount_cents};
  return outcome;
}

Outcome Payments::purge() {
  store::PaymentsStore::Lease session = store_->acquire();
  const store::Status status = session->purge();
  if (status != store::Status::ok) return unavailable(status, "purge");
  return Outcome::ok;
}

Outcome Payments::consistency(Consistency* out) {
  store::QueueCounts counts;
  {
    store::PaymentsStore::Lease session = store_->acquire();
    const store::Status status = session->counts(&counts);
    if (status != store::Status::ok) return unavailable(status, "consistency");
  }
  const int64_t oldest = counts.oldest_unsettled_accepted_ms;
  *out = {counts.accepted,
          counts.queued,
          counts.in_flight,
          counts.pinned,
          counts.retried,
          counts.settled[store::processor_index(store::Processor::default_processor)],
          counts.settled[store::processor_index(store::Processor::fallback)],
          oldest,
          oldest > 0 ? std::max<int64_t>(0, clocks::wall_ms() - oldest) : 0};
  return Outcome::ok;
}

}  // namespace payments
