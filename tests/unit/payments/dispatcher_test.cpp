// payments::Dispatcher on a real SQLite file, with the test as the instance's one worker (it takes
// from the real JobQueue and reports like a worker would): due payments are leased only for idle
// workers, with a processor and requestedAt chosen; outcomes are written under their lease; a
// payment whose lease expired comes back pinned; stop() writes every outcome it was given.
#include "payments/dispatcher.h"

#include <catch2/catch.hpp>
#include <future>
#include <thread>
#include <utility>

#include "clock.h"
#include "crebito_limits.h"
#include "payments/forwarder.h"
#include "payments_fixture.h"

using payments::Processor;
using payments_fixture::id_of;
using payments_fixture::QueueFile;

namespace {

using InFlightQueued = std::pair<int64_t, int64_t>;

constexpr int timeout_ms = 1000;

// The instance each test starts from: a dispatcher running on a fresh queue, feeding a job queue
// that the test takes from as the instance's one worker.
class DispatcherFixture {
 protected:
  QueueFile file;
  payments::JobQueue jobs;
  payments::ProcessorViews views{1};
  payments::Dispatcher dispatcher{file.store.get(), payments::Forwarder::lease_ms(timeout_ms),
                                  &jobs, &views};

  DispatcherFixture() { dispatcher.start(); }

  void accept(int n) {
    REQUIRE(file.connect()->accept(id_of(n), 100 * n, clocks::wall_ms()) == store::Status::ok);
    dispatcher.wake();
  }
  // Waits in take() like an idle worker; nullopt when no job came within the limit.
  std::optional<store::PaymentJob> take(
      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto taken = std::async(std::launch::async, [this] {
      store::PaymentJob job;
      return jobs.take(&job) ? std::optional(job) : std::nullopt;
    });
    if (taken.wait_for(limit) != std::future_status::ready) jobs.close();  // take() returns.
    return taken.get();
  }
  // Accepts payment n and takes the job the dispatcher leases for it.
  store::PaymentJob accept_and_take(int n) {
    accept(n);
    const auto job = take();
    REQUIRE(job);
    return *job;
  }
  // What a worker reports after the processor answered 200.
  void settled(const store::PaymentJob& job) {
    dispatcher.ended({job, true, false, *job.processor, job.requested_at_ms, clocks::wall_ms()});
  }
  // Reports `job` settled and waits until the queue counts `settled_on_default` settled on the
  // default processor.
  void settle_and_wait(const store::PaymentJob& job, int64_t settled_on_default) {
    settled(job);
    REQUIRE(wait_until([&] { return file.counts().settled[0] == settled_on_default; }));
  }
  // The queue's payments in flight and queued, in that order.
  InFlightQueued in_flight_queued() {
    const store::QueueCounts counts = file.counts();
    return {counts.in_flight, counts.queued};
  }
};

}  // namespace

TEST_CASE_METHOD(DispatcherFixture,
                 "dispatcher: an accepted payment is leased to the idle worker, sent to a "
                 "processor",
                 "[unit][payments][dispatcher]") {
  const int64_t before = clocks::wall_ms();
  const store::PaymentJob job = accept_and_take(1);
  CHECK(job.correlation_id == id_of(1));
  CHECK(job.amount_cents == 100);
  CHECK(job.state == store::PaymentState::leased);
  CHECK(job.processor == Processor::default_processor);  // Nothing says default is unusable.
  CHECK(job.requested_at_ms >= before);
  CHECK(job.attempts == 1);
  CHECK_FALSE(job.pinned);
  CHECK(in_flight_queued() == InFlightQueued{1, 0});
}

TEST_CASE_METHOD(DispatcherFixture,
                 "dispatcher: a round claims no more payments than there are idle workers",
                 "[unit][payments][dispatcher]") {
  for (int n = 1; n <= 3; ++n) accept(n);
  REQUIRE(take());
  // The only worker is busy now: later rounds claim nothing.
  CHECK(in_flight_queued() == InFlightQueued{1, 2});
}

TEST_CASE_METHOD(DispatcherFixture,
                 "dispatcher: what a worker reports is written under its lease, once",
                 "[unit][payments][dispatcher]") {
  const store::PaymentJob job = accept_and_take(1);
  settle_and_wait(job, 1);
  // A second report of the same lease writes nothing more.
  settled(job);
  dispatcher.stop();
  const store::QueueCounts counts = file.counts();
  CHECK(counts.settled[0] == 1);
  CHECK(counts.accepted == 1);
  CHECK(counts.in_flight + counts.queued == 0);
}

TEST_CASE_METHOD(DispatcherFixture,
                 "dispatcher: stop() writes every outcome it was given before it",
                 "[unit][payments][dispatcher]") {
  settled(accept_and_take(1));
  jobs.close();  // As the workers' stop() does before the dispatcher's.
  dispatcher.stop();
  const store::QueueCounts counts = file.counts();
  CHECK(counts.settled[0] == 1);
  CHECK(counts.in_flight == 0);
}

TEST_CASE_METHOD(DispatcherFixture,
                 "dispatcher: a payment whose lease expired comes back pinned to that call",
                 "[unit][payments][dispatcher]") {
  // Another instance leases it for 100 ms, sends it to the fallback, and dies.
  REQUIRE(file.connect()->accept(id_of(1), 100, clocks::wall_ms()) == store::Status::ok);
  const int64_t sent_at = clocks::wall_ms();
  store::PaymentJob lost;
  const auto to_fallback = [sent_at](store::PaymentJob* job) {
    job->processor = Processor::fallback;
    job->requested_at_ms = sent_at;
    ++job->attempts;
  };
  REQUIRE(file.connect()->claim(sent_at, sent_at + 100, to_fallback, &lost) == store::Status::ok);
  // The idle poll finds it once the lease has expired.
  const auto job = take();
  REQUIRE(job);
  CHECK(job->correlation_id == id_of(1));
  CHECK(job->pinned);
  CHECK(job->processor == Processor::fallback);
  CHECK(job->requested_at_ms == sent_at);
  CHECK(job->attempts == 2);
  CHECK(job->lease_token != lost.lease_token);
  CHECK(clocks::wall_ms() >= sent_at + 100);
}

TEST_CASE_METHOD(DispatcherFixture,
                 "dispatcher: after its file was replaced, it forwards from the file in its place",
                 "[unit][payments][dispatcher][moved]") {
  settle_and_wait(accept_and_take(1), 1);

  // The session it borrows now has the old file open: its rounds answer unavailable and write
  // nothing into the old file, until the store replaces it.
  file.replace_by_copy();
  const store::PaymentJob second = accept_and_take(2);
  CHECK(second.correlation_id == id_of(2));
  settle_and_wait(second, 2);
  const store::QueueCounts counts = file.counts();
  CHECK(counts.accepted == 2);
  CHECK(counts.in_flight + counts.queued == 0);
}

TEST_CASE_METHOD(DispatcherFixture,
                 "dispatcher: while neither processor is within the call budget, payments wait "
                 "queued and are sent with a fresh requestedAt once one is",
                 "[unit][payments][dispatcher]") {
  const int64_t t = clocks::wall_ms();
  REQUIRE(file.connect()->write_health(Processor::default_processor,
                                       {false, limits::processor_call_budget_ms, t}) ==
          store::Status::ok);
  REQUIRE(file.connect()->write_health(Processor::fallback, {false, 2000, t}) == store::Status::ok);
  accept(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  store::QueueCounts counts = file.counts();
  CHECK(counts.queued == 1);
  CHECK(counts.in_flight == 0);

  const int64_t fast_at = clocks::wall_ms();
  REQUIRE(file.connect()->write_health(Processor::fallback, {false, 5, fast_at}) ==
          store::Status::ok);
  const auto job = take();
  REQUIRE(job);
  CHECK(job->processor == Processor::fallback);
  CHECK(job->requested_at_ms >= fast_at);
  CHECK(job->attempts == 1);
}
