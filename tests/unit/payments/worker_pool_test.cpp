// payments::WorkerPool against two processor stand-ins (tools/processor-sim): each payment handed
// over is called once, on the processor its lease names, and reported once with what
// next_after() decides; stopping finishes every payment already handed over.
#include "payments/worker_pool.h"

#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <vector>

#include "clock.h"
#include "crebito_limits.h"
#include "payments_fixture.h"
#include "support/processor_sim.h"

using payments::Processor;
using payments_fixture::id_of;
using AttemptEnd = store::SqlitePaymentsConnection::AttemptEnd;

namespace {

struct Pool {
  TempDir logs;
  ProcessorSim default_sim{"0.05", logs.file("default.log")};
  ProcessorSim fallback_sim{"0.15", logs.file("fallback.log")};
  payments::JobQueue jobs;
  payments::ProcessorViews views;
  std::mutex mutex;
  std::vector<AttemptEnd> ends;  // Guarded by mutex.
  payments::WorkerPool pool;

  Pool(int workers, int timeout_ms)
      : views(workers),
        pool({default_sim.url(), fallback_sim.url(), workers, timeout_ms}, &jobs, &views,
             [this](AttemptEnd end) {
               std::lock_guard<std::mutex> lock(mutex);
               ends.push_back(std::move(end));
             }) {
    pool.start();
  }
  size_t ended() {
    std::lock_guard<std::mutex> lock(mutex);
    return ends.size();
  }
  std::map<std::string, AttemptEnd> ends_by_id() {
    std::lock_guard<std::mutex> lock(mutex);
    std::map<std::string, AttemptEnd> by_id;
    for (const AttemptEnd& end : ends) by_id.emplace(end.job.correlation_id, end);
    return by_id;
  }
  // Hands over payment 1, leased to `processor` at `at`, and waits for its end.
  AttemptEnd call_one(Processor processor, int64_t at);
};

// A leased payment as the dispatcher hands it over: first attempt, to `processor`.
store::PaymentJob leased(int n, Processor processor, int64_t requested_at_ms) {
  store::PaymentJob job;
  job.id = n;
  job.correlation_id = id_of(n);
  job.amount_cents = 100 + n;
  job.state = store::PaymentState::leased;
  job.processor = processor;
  job.requested_at_ms = requested_at_ms;
  job.attempts = 1;
  job.lease_token = 1000 + n;
  return job;
}

AttemptEnd Pool::call_one(Processor processor, int64_t at) {
  std::vector<store::PaymentJob> batch = {leased(1, processor, at)};
  jobs.put(&batch);
  REQUIRE(wait_until([&] { return ended() == 1; }));
  return ends_by_id().at(id_of(1));
}

}  // namespace

TEST_CASE("worker pool: each payment is called once on its processor and reported settled",
          "[unit][payments][workers]") {
  Pool p(4, 2000);
  const int64_t at = clocks::wall_ms();
  std::vector<store::PaymentJob> batch;
  for (int n = 1; n <= 20; ++n) {
    batch.push_back(leased(n, n % 2 ? Processor::default_processor : Processor::fallback, at));
  }
  p.jobs.put(&batch);
  REQUIRE(wait_until([&] { return p.ended() == 20; }));
  const auto by_id = p.ends_by_id();
  CHECK(by_id.size() == 20);
  for (int n = 1; n <= 20; ++n) {
    INFO(n);
    const AttemptEnd& end = by_id.at(id_of(n));
    CHECK(end.settled);
    CHECK(end.processor == (n % 2 ? Processor::default_processor : Processor::fallback));
    CHECK(end.requested_at_ms == at);
    CHECK(end.job.lease_token == 1000 + n);  // The lease it names when written.
  }
  CHECK(p.default_sim.payments()->size() == 10);
  CHECK(p.fallback_sim.payments()->size() == 10);
}

TEST_CASE("worker pool: a failing processor's payment is requeued after a back-off, unpinned",
          "[unit][payments][workers]") {
  Pool p(1, 2000);
  REQUIRE(p.default_sim.set_failure(true));
  const int64_t at = clocks::wall_ms();
  const AttemptEnd end = p.call_one(Processor::default_processor, at);
  CHECK_FALSE(end.settled);
  CHECK_FALSE(end.pinned);
  CHECK(end.at_ms >= at + limits::payment_retry_delay_ms_base);
  // The views now steer the next choice away from it.
  CHECK(p.views.view(Processor::default_processor, clocks::wall_ms()).avoid_until_ms > at);
  CHECK(p.default_sim.payments()->empty());
}

TEST_CASE("worker pool: a call past the timeout pins the payment where it was sent",
          "[unit][payments][workers]") {
  Pool p(1, 200);
  REQUIRE(p.fallback_sim.set_delay(500));
  const int64_t at = clocks::wall_ms();
  const AttemptEnd end = p.call_one(Processor::fallback, at);
  CHECK_FALSE(end.settled);
  CHECK(end.pinned);
  CHECK(end.processor == Processor::fallback);
  CHECK(end.requested_at_ms == at);
}

TEST_CASE("worker pool: stop() returns once every payment handed over was called and reported",
          "[unit][payments][workers]") {
  Pool p(2, 2000);
  REQUIRE(p.default_sim.set_delay(100));
  const int64_t at = clocks::wall_ms();
  std::vector<store::PaymentJob> batch;
  for (int n = 1; n <= 6; ++n) batch.push_back(leased(n, Processor::default_processor, at));
  p.jobs.put(&batch);
  p.pool.stop();
  CHECK(p.ended() == 6);
  CHECK(p.default_sim.payments()->size() == 6);
  for (const auto& [id, end] : p.ends_by_id()) CHECK(end.settled);
}
