#include "payments/forwarding.h"

#include <algorithm>
#include <iterator>

#include "check.h"
#include "crebito_limits.h"

namespace payments {

const char* processor_name(Processor processor) {
  return processor == Processor::default_processor ? "default" : "fallback";
}

Processor other(Processor processor) {
  return processor == Processor::default_processor ? Processor::fallback
                                                   : Processor::default_processor;
}

const char* outcome_name(AttemptOutcome outcome) {
  // In the enum's order; the assertion below catches an outcome added without its name.
  static constexpr const char* names[] = {"recorded", "duplicate", "failed",       "throttled",
                                          "refused",  "unknown",   "lease_expired"};
  static_assert(std::size(names) == static_cast<size_t>(AttemptOutcome::lease_expired) + 1);
  return names[static_cast<size_t>(outcome)];
}

int64_t retry_delay_ms(int attempts) {
  CREBITO_ASSERT(attempts >= 1);
  // Doubling stops long before it could overflow: the cap is reached within a few steps.
  int64_t delay = limits::payment_retry_delay_ms_base;
  for (int i = 1; i < attempts && delay < limits::payment_retry_delay_ms_max; ++i) delay *= 2;
  return std::min<int64_t>(delay, limits::payment_retry_delay_ms_max);
}

Transition next_after(const Attempt& attempt, AttemptOutcome outcome) {
  CREBITO_ASSERT(attempt.attempts_before >= 0);
  CREBITO_ASSERT(attempt.requested_at_ms > 0);
  Transition next;
  next.processor = attempt.processor;
  next.requested_at_ms = attempt.requested_at_ms;
  switch (outcome) {
    case AttemptOutcome::recorded:
    case AttemptOutcome::duplicate:
      next.settled = true;
      return next;
    case AttemptOutcome::unknown:
    case AttemptOutcome::lease_expired:
      next.pinned = true;
      break;
    case AttemptOutcome::failed:
    case AttemptOutcome::throttled:
    case AttemptOutcome::refused:
      // Not recorded by this call; but a pinned payment may still have been recorded by the call
      // whose outcome was unknown, so it stays where it is.
      next.pinned = attempt.pinned;
      break;
  }
  next.retry_delay_ms = retry_delay_ms(attempt.attempts_before + 1);
  CREBITO_ASSERT(!next.settled);
  CREBITO_ASSERT(next.retry_delay_ms > 0);
  return next;
}

bool usable(const ProcessorView& view, int64_t now_ms) {
  return !view.failing && now_ms >= view.avoid_until_ms;
}

int64_t expected_ms(const ProcessorView& view) {
  return std::max(view.min_response_ms, view.observed_latency_ms);
}

bool within_budget(const ProcessorView& view) {
  const int64_t known_ms = std::max(view.min_response_ms, view.answered_latency_ms);
  return expected_ms(view) < limits::processor_call_budget_ms &&
         view.oldest_call_age_ms <= known_ms + limits::processor_stall_slack_ms;
}

Processor choose_processor(const ProcessorView& default_view, const ProcessorView& fallback_view,
                           int64_t now_ms) {
  const bool default_within = within_budget(default_view);
  if (default_within != within_budget(fallback_view)) {
    return default_within ? Processor::default_processor : Processor::fallback;
  }
  const bool default_usable = usable(default_view, now_ms);
  const bool fallback_usable = usable(fallback_view, now_ms);
  if (default_usable && expected_ms(default_view) < limits::default_preferred_below_ms) {
    return Processor::default_processor;
  }
  if (fallback_usable &&
      (!default_usable || expected_ms(fallback_view) < expected_ms(default_view))) {
    return Processor::fallback;
  }
  return Processor::default_processor;
}

}  // namespace payments
