// The forwarding state machine (src/payments/forwarding.h): for each outcome of an attempt, where
// the payment goes next; and the processor choice. Pure functions, so every case is one call.
#include "payments/forwarding.h"

#include <catch2/catch.hpp>

#include "crebito_limits.h"

using payments::Attempt;
using payments::AttemptOutcome;
using payments::Processor;
using payments::ProcessorView;

namespace {

constexpr int64_t sent_at_ms = 1'752'582'896'000;
const Attempt fresh{Processor::default_processor, sent_at_ms, false, 0};
const Attempt pinned_repeat{Processor::fallback, sent_at_ms, true, 3};

// Whether `next` keeps the payment where it was sent: on `processor`, with the same requestedAt.
bool kept_on(const payments::Transition& next, Processor processor) {
  return next.processor == processor && next.requested_at_ms == sent_at_ms;
}

}  // namespace

TEST_CASE("200 settles on the processor that answered, with the requestedAt it was sent",
          "[unit][payments][forwarding]") {
  const auto next = payments::next_after(fresh, AttemptOutcome::recorded);
  CHECK(next.settled);
  CHECK(kept_on(next, Processor::default_processor));
}

TEST_CASE("422 means already recorded there: settles on that processor once",
          "[unit][payments][forwarding]") {
  const auto next = payments::next_after(pinned_repeat, AttemptOutcome::duplicate);
  CHECK(next.settled);
  CHECK(kept_on(next, Processor::fallback));
}

TEST_CASE("500, 429 and a refused connection retry unpinned: the next attempt may go elsewhere",
          "[unit][payments][forwarding]") {
  for (const AttemptOutcome outcome :
       {AttemptOutcome::failed, AttemptOutcome::throttled, AttemptOutcome::refused}) {
    INFO(payments::outcome_name(outcome));
    const auto next = payments::next_after(fresh, outcome);
    CHECK_FALSE(next.settled);
    CHECK_FALSE(next.pinned);
    CHECK(next.retry_delay_ms == limits::payment_retry_delay_ms_base);
  }
}

TEST_CASE("a timeout or reset after sending pins the payment to that processor and requestedAt",
          "[unit][payments][forwarding]") {
  const auto next = payments::next_after(fresh, AttemptOutcome::unknown);
  CHECK_FALSE(next.settled);
  CHECK(next.pinned);
  CHECK(kept_on(next, Processor::default_processor));
}

TEST_CASE("an expired lease counts as an unknown outcome: pinned where the dead worker sent it",
          "[unit][payments][forwarding]") {
  const Attempt in_flight{Processor::fallback, sent_at_ms, false, 1};
  const auto next = payments::next_after(in_flight, AttemptOutcome::lease_expired);
  CHECK(next.pinned);
  CHECK(kept_on(next, Processor::fallback));
}

TEST_CASE("a pinned payment stays pinned through 500, 429, refused and timeouts",
          "[unit][payments][forwarding]") {
  for (const AttemptOutcome outcome : {AttemptOutcome::failed, AttemptOutcome::throttled,
                                       AttemptOutcome::refused, AttemptOutcome::unknown}) {
    INFO(payments::outcome_name(outcome));
    const auto next = payments::next_after(pinned_repeat, outcome);
    CHECK_FALSE(next.settled);
    CHECK(next.pinned);
    CHECK(kept_on(next, Processor::fallback));
  }
}

TEST_CASE("the retry delay doubles from the base and stops at the cap",
          "[unit][payments][forwarding]") {
  CHECK(payments::retry_delay_ms(1) == limits::payment_retry_delay_ms_base);
  CHECK(payments::retry_delay_ms(2) == 2 * limits::payment_retry_delay_ms_base);
  CHECK(payments::retry_delay_ms(1000) == limits::payment_retry_delay_ms_max);
  for (int attempts = 1; attempts < 100; ++attempts) {
    CHECK(payments::retry_delay_ms(attempts) <= payments::retry_delay_ms(attempts + 1));
  }
}

TEST_CASE("processor choice: default while fast, fallback when default fails or is slower",
          "[unit][payments][forwarding]") {
  const int64_t now = 1000;
  const ProcessorView healthy{};
  const ProcessorView failing{true, 0, 0, 0};
  const ProcessorView slow{false, 1000, 0, 0};
  const ProcessorView avoided{false, 0, now + 1, 0};
  const ProcessorView bit_slow{false, 50, 0, 0};
  using payments::choose_processor;
  CHECK(choose_processor(healthy, healthy, now) == Processor::default_processor);
  CHECK(choose_processor(bit_slow, healthy, now) == Processor::default_processor);
  CHECK(choose_processor(failing, healthy, now) == Processor::fallback);
  CHECK(choose_processor(slow, healthy, now) == Processor::fallback);
  CHECK(choose_processor(avoided, healthy, now) == Processor::fallback);
  CHECK(choose_processor(avoided, healthy, now + 1) == Processor::default_processor);
  // Slow default but a slower fallback: default is cheaper.
  CHECK(choose_processor(slow, ProcessorView{false, 2000, 0, 0}, now) ==
        Processor::default_processor);
  // Neither usable: default (the back-off paces the attempts).
  CHECK(choose_processor(failing, failing, now) == Processor::default_processor);
}

TEST_CASE("processor choice: no call to a processor expected to outlast the call budget",
          "[unit][payments][forwarding]") {
  const int64_t now = 1000;
  const int64_t budget = limits::processor_call_budget_ms;
  using payments::within_budget;
  CHECK(within_budget(ProcessorView{}));
  CHECK(within_budget(ProcessorView{false, budget - 1, 0, 0}));
  CHECK_FALSE(within_budget(ProcessorView{false, budget, 0, 0}));
  CHECK_FALSE(within_budget(ProcessorView{false, 0, 0, budget}));
  // A call waiting longer than anything said so far by more than the slack: it turned slow.
  const int64_t slack = limits::processor_stall_slack_ms;
  CHECK(within_budget(ProcessorView{false, 0, 0, slack, 0, slack}));
  CHECK_FALSE(within_budget(ProcessorView{false, 0, 0, slack + 1, 0, slack + 1}));
  CHECK(within_budget(ProcessorView{false, 1000, 0, 1000, 1000, 1000 + slack}));
  CHECK_FALSE(within_budget(ProcessorView{false, 1000, 0, 1001 + slack, 0, 1001 + slack}));
  CHECK(within_budget(ProcessorView{false, 0, 0, 500, 500, 500 + slack}));

  // Only the one within the budget, failing or not, cheaper or not.
  const ProcessorView over{false, budget, 0, 0};
  const ProcessorView failing_fast{true, 0, 0, 0};
  const ProcessorView slowish{false, budget - 100, 0, 0};
  using payments::choose_processor;
  CHECK(choose_processor(over, ProcessorView{}, now) == Processor::fallback);
  CHECK(choose_processor(over, failing_fast, now) == Processor::fallback);
  CHECK(choose_processor(failing_fast, over, now) == Processor::default_processor);
  CHECK(choose_processor(slowish, over, now) == Processor::default_processor);
  CHECK(choose_processor(over, slowish, now) == Processor::fallback);
}
