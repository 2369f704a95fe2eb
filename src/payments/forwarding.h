// The forwarding rules of docs/PAYMENTS.md as pure functions: what happens to a payment after one
// attempt to forward it, and which processor the next attempt goes to. No I/O, no clock (times are
// arguments), no locks; thread-safe. The store keeps the state, the forwarder does the calls.
//
// The state of an unsettled payment is (pinned, processor, requested_at_ms):
//   - not pinned: nothing was possibly recorded by a processor; the next attempt may go to either
//     processor, with a fresh requestedAt.
//   - pinned: an attempt's outcome is unknown (timeout, reset after sending, or its worker died and
//     its lease expired), so that processor may have recorded it with that requestedAt. Every later
//     attempt repeats the same call (same processor, same requestedAt) until the processor answers
//     200 (recorded now) or 422 (recorded before). A 500 does not unpin: the processor checks its
//     failure flag before the duplicate check, so a 500 says nothing about an earlier insert.
// A settled payment counts once, for the processor that answered 200 or 422, with the requestedAt
// that processor holds.
#pragma once

#include <cstdint>

#include "store/payments_store.h"

namespace payments {

// The processors as the queue stores them: Processor::default_processor and Processor::fallback.
using store::Processor;
using store::processor_count;
using store::processor_index;

const char* processor_name(Processor processor);  // "default" or "fallback"
Processor other(Processor processor);

// What one call to a processor gave.
enum class AttemptOutcome {
  recorded,       // 200: recorded now.
  duplicate,      // 422: that correlationId was already recorded there.
  failed,         // 500 or another unexpected status: not recorded by this call.
  throttled,      // 429: refused before any work; not recorded.
  refused,        // Connection refused or not established: nothing was sent.
  unknown,        // Timeout or reset after the request was sent: may have been recorded.
  lease_expired,  // The worker holding the attempt vanished: treated as unknown.
};

const char* outcome_name(AttemptOutcome outcome);

// One attempt as it was sent.
struct Attempt {
  Processor processor = Processor::default_processor;
  int64_t requested_at_ms = 0;
  bool pinned = false;      // The attempt repeated a call whose outcome was unknown.
  int attempts_before = 0;  // Attempts made before this one.
};

// What to do with the payment after the attempt.
struct Transition {
  bool settled = false;  // Counted for `processor` with `requested_at_ms`; no more attempts.
  bool pinned = false;   // The next attempt must repeat this call (same processor, requestedAt).
  Processor processor = Processor::default_processor;
  int64_t requested_at_ms = 0;
  int64_t retry_delay_ms = 0;  // When not settled: wait this long before the next attempt.
};

// The retry delay after `attempts` attempts: base * 2^(attempts-1), capped.
int64_t retry_delay_ms(int attempts);

Transition next_after(const Attempt& attempt, AttemptOutcome outcome);

// What workers know about a processor: the last health poll and what real calls showed.
struct ProcessorView {
  bool failing = false;             // The health poll said failing.
  int64_t min_response_ms = 0;      // The health poll's minResponseTime.
  int64_t avoid_until_ms = 0;       // A real call failed; avoid it until then.
  int64_t observed_latency_ms = 0;  // Recent latency of real calls: answered, or still waiting.
  int64_t answered_latency_ms = 0;  // Recent latency of real calls that answered.
  int64_t oldest_call_age_ms = 0;   // The age of the oldest call still waiting; 0 when none.
};

// Whether this processor may be called now: the health poll does not say failing, and no real
// call failed within limits::processor_avoid_ms.
bool usable(const ProcessorView& view, int64_t now_ms);

// The response time a new call to this processor is expected to take: the health poll's
// minResponseTime or the recent latency of real calls, whichever is longer.
int64_t expected_ms(const ProcessorView& view);

// Whether a new call to this processor is expected to end within limits::processor_call_budget_ms:
// its expected response time is below the budget, and no call waiting on it is older than
// expected by more than limits::processor_stall_slack_ms (it turned slower than anything said).
bool within_budget(const ProcessorView& view);

// The processor for a payment that is not pinned, at time now_ms. Only one within the budget when
// one of them is; between them, default while it is usable and fast; the fallback when default is
// unusable or slow and the fallback is faster; default when neither is usable (the retry back-off
// then paces the attempts). When neither is within the budget the dispatcher holds the payments
// (up to limits::payment_hold_ms_max) rather than ask this.
Processor choose_processor(const ProcessorView& default_view, const ProcessorView& fallback_view,
                           int64_t now_ms);

}  // namespace payments
