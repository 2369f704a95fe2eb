// payments::ProcessorViews: the stored health poll, refined by this instance's own calls. Pure
// state with times as arguments, so every rule is one sequence of calls.
#include "payments/processor_views.h"

#include <catch2/catch.hpp>

#include "crebito_limits.h"

using payments::AttemptOutcome;
using payments::Processor;
using payments::ProcessorViews;

namespace {

constexpr int64_t t0 = 1'752'582'896'000;

std::array<store::HealthRow, payments::processor_count> health(bool default_failing,
                                                               int64_t default_min_ms,
                                                               int64_t checked_ms) {
  return {store::HealthRow{default_failing, default_min_ms, checked_ms},
          store::HealthRow{false, 0, checked_ms}};
}

}  // namespace

TEST_CASE("processor views: the stored health is what a view starts from",
          "[unit][payments][views]") {
  ProcessorViews views(4);
  CHECK_FALSE(views.view(Processor::default_processor, t0).failing);
  views.refresh(health(true, 80, t0));
  const auto view = views.view(Processor::default_processor, t0);
  CHECK(view.failing);
  CHECK(view.min_response_ms == 80);
  CHECK_FALSE(views.view(Processor::fallback, t0).failing);
}

TEST_CASE("processor views: the stored health is due for a re-read once per interval",
          "[unit][payments][views]") {
  ProcessorViews views(1);
  CHECK(views.refresh_due(t0));
  CHECK_FALSE(views.refresh_due(t0));
  CHECK_FALSE(views.refresh_due(t0 + ProcessorViews::refresh_interval_ms - 1));
  CHECK(views.refresh_due(t0 + ProcessorViews::refresh_interval_ms));
}

TEST_CASE("processor views: answered calls give a latency that follows the last ones",
          "[unit][payments][views]") {
  ProcessorViews views(1);
  views.call_started(0, Processor::fallback, t0);
  views.call_ended(0, Processor::fallback, AttemptOutcome::recorded, 400, t0 + 400);
  CHECK(views.view(Processor::fallback, t0 + 400).observed_latency_ms == 100);  // (0*3+400)/4
  views.call_started(0, Processor::fallback, t0 + 400);
  views.call_ended(0, Processor::fallback, AttemptOutcome::duplicate, 20, t0 + 420);
  CHECK(views.view(Processor::fallback, t0 + 420).observed_latency_ms == 80);  // (100*3+20)/4
  CHECK(views.view(Processor::default_processor, t0 + 420).observed_latency_ms == 0);
  CHECK(views.view(Processor::fallback, t0 + 420).avoid_until_ms == 0);
}

TEST_CASE("processor views: a call that did not answer well avoids that processor a while",
          "[unit][payments][views]") {
  for (const AttemptOutcome outcome :
       {AttemptOutcome::failed, AttemptOutcome::throttled, AttemptOutcome::refused,
        AttemptOutcome::unknown, AttemptOutcome::lease_expired}) {
    INFO(payments::outcome_name(outcome));
    ProcessorViews views(1);
    views.call_started(0, Processor::default_processor, t0);
    views.call_ended(0, Processor::default_processor, outcome, 10, t0 + 10);
    CHECK(views.view(Processor::default_processor, t0 + 10).avoid_until_ms ==
          t0 + 10 + limits::processor_avoid_ms);
    CHECK(views.view(Processor::default_processor, t0 + 10).observed_latency_ms == 0);
  }
}

TEST_CASE("processor views: a call still waiting counts as a latency of at least its age",
          "[unit][payments][views]") {
  ProcessorViews views(3);
  views.call_started(0, Processor::default_processor, t0);
  views.call_started(1, Processor::default_processor, t0 + 100);
  views.call_started(2, Processor::fallback, t0 + 50);
  CHECK(views.view(Processor::default_processor, t0 + 300).observed_latency_ms == 300);
  CHECK(views.view(Processor::fallback, t0 + 300).observed_latency_ms == 250);
  views.call_ended(0, Processor::default_processor, AttemptOutcome::recorded, 300, t0 + 300);
  // The oldest call answered: the one still waiting (200 ms) is the longest now.
  CHECK(views.view(Processor::default_processor, t0 + 300).observed_latency_ms == 200);
}

TEST_CASE("processor views: a new poll answer replaces the latency calls showed",
          "[unit][payments][views]") {
  ProcessorViews views(1);
  views.refresh(health(false, 0, t0));
  views.call_started(0, Processor::default_processor, t0);
  views.call_ended(0, Processor::default_processor, AttemptOutcome::recorded, 800, t0 + 800);
  CHECK(views.view(Processor::default_processor, t0 + 800).observed_latency_ms == 200);
  // The same answer read again changes nothing.
  views.refresh(health(false, 0, t0));
  CHECK(views.view(Processor::default_processor, t0 + 800).observed_latency_ms == 200);
  // A new answer: the slow calls before it no longer count.
  views.refresh(health(false, 10, t0 + 5100));
  const auto view = views.view(Processor::default_processor, t0 + 5100);
  CHECK(view.observed_latency_ms == 0);
  CHECK(view.min_response_ms == 10);
}

TEST_CASE("processor views: answered latency and the oldest waiting call, apart",
          "[unit][payments][views]") {
  ProcessorViews views(2);
  views.call_started(0, Processor::default_processor, t0);
  views.call_ended(0, Processor::default_processor, AttemptOutcome::recorded, 400, t0 + 400);
  views.call_started(0, Processor::default_processor, t0 + 400);
  views.call_started(1, Processor::default_processor, t0 + 500);
  const auto view = views.view(Processor::default_processor, t0 + 1000);
  CHECK(view.answered_latency_ms == 100);  // (0*3+400)/4
  CHECK(view.oldest_call_age_ms == 600);
  CHECK(view.observed_latency_ms == 600);
  CHECK(views.view(Processor::fallback, t0 + 1000).oldest_call_age_ms == 0);
}
