#include "payments_store_cases.h"

#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace payments_store_cases {

std::string id_of(int n) {
  char id[40];
  std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012x", n);
  return id;
}

std::function<void(store::PaymentJob*)> send_to(store::Processor processor, int64_t now) {
  return [processor, now](store::PaymentJob* job) {
    job->processor = processor;
    job->requested_at_ms = now;
    ++job->attempts;
  };
}

void every_call_unavailable(store::PaymentsSession& session) {
  store::QueueCounts counts;
  CHECK(session.counts(&counts) == store::Status::unavailable);
  std::array<store::HealthRow, 2> health;
  CHECK(session.read_health(&health) == store::Status::unavailable);
  CHECK(session.take_lease("health", "a", 1000, 2000) == store::Status::unavailable);
  store::PaymentJob job;
  CHECK(session.claim(5000, 6000, send_to(store::Processor::default_processor, 5000), &job) ==
        store::Status::unavailable);
}

namespace {

constexpr store::Processor to_default = store::Processor::default_processor;
constexpr store::Processor to_fallback = store::Processor::fallback;
const std::string id_a = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b1";
const std::string id_b = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b2";

}  // namespace

void correlation_id_queued_once(Sessions q) {
  CHECK(q.one.accept(id_a, 2005, 1000) == store::Status::ok);
  CHECK(q.two.accept(id_a, 2005, 1001) == store::Status::refused);
  store::QueueCounts counts;
  REQUIRE(q.one.counts(&counts) == store::Status::ok);
  CHECK(counts.accepted == 1);
  CHECK(counts.queued == 1);
}

void leased_until_expiry(Sessions q) {
  REQUIRE(q.one.accept(id_a, 2005, 1000) == store::Status::ok);
  store::PaymentJob first, second;
  REQUIRE(q.one.claim(1000, 2000, send_to(to_default, 1000), &first) == store::Status::ok);
  CHECK(first.correlation_id == id_a);
  CHECK(first.attempts == 1);
  CHECK(q.two.claim(1999, 3000, send_to(to_fallback, 1999), &second) == store::Status::refused);

  // After the lease: the next claimer sees the dead worker's attempt (leased, processor 0).
  store::PaymentJob seen;
  auto record = [&seen](store::PaymentJob* job) {
    seen = *job;
    ++job->attempts;
    job->pinned = true;  // What the forwarder decides for an expired lease.
  };
  REQUIRE(q.two.claim(2001, 4000, record, &second) == store::Status::ok);
  CHECK(seen.state == store::PaymentState::leased);
  CHECK(seen.processor == to_default);
  CHECK(seen.requested_at_ms == 1000);
  CHECK(second.lease_token != first.lease_token);

  // The first worker comes back late: its lease is gone, it writes nothing.
  CHECK(q.one.settle(first, to_default, 1000, 2002) == store::Status::refused);
  CHECK(q.one.requeue(first, false, to_fallback, 1000, 2002) == store::Status::refused);
  CHECK(q.two.settle(second, to_default, 1000, 2003) == store::Status::ok);
  store::QueueCounts counts;
  REQUIRE(q.one.counts(&counts) == store::Status::ok);
  CHECK(counts.settled[0] == 1);
  CHECK(counts.retried == 1);
  CHECK(counts.queued + counts.in_flight == 0);
}

void requeued_waits(Sessions q) {
  REQUIRE(q.one.accept(id_a, 2005, 1000) == store::Status::ok);
  store::PaymentJob job;
  REQUIRE(q.one.claim(1000, 9000, send_to(to_default, 1000), &job) == store::Status::ok);
  REQUIRE(q.one.requeue(job, true, to_default, 1000, 1500) == store::Status::ok);
  CHECK(q.two.claim(1499, 9000, send_to(to_default, 1499), &job) == store::Status::refused);
  CHECK(q.two.claim(1500, 9000, send_to(to_default, 1500), &job) == store::Status::ok);
}

void outcomes_under_lease(Sessions q) {
  const std::string id_c = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3";
  REQUIRE(q.one.accept(id_a, 2005, 1000) == store::Status::ok);
  REQUIRE(q.one.accept(id_b, 1000, 1000) == store::Status::ok);
  store::PaymentJob a, b, b_again;
  REQUIRE(q.one.claim(1000, 2000, send_to(to_default, 1000), &a) == store::Status::ok);
  REQUIRE(q.one.claim(1000, 1500, send_to(to_fallback, 1000), &b) == store::Status::ok);
  // b's lease expires and another worker takes it: b's first worker must write nothing.
  REQUIRE(q.two.claim(1600, 9000, send_to(to_fallback, 1600), &b_again) == store::Status::ok);
  REQUIRE(b_again.id == b.id);
  REQUIRE(q.one.accept(id_c, 700, 1650) == store::Status::ok);

  std::vector<store::Status> ended;
  std::vector<store::PaymentJob> jobs;
  // a settles, b's stale outcome is refused, and the one payment due (c) is claimed, though
  // three were asked for.
  REQUIRE(q.one.end_and_claim({{a, /*settled=*/true, false, to_default, 1000, 1700},
                               {b, /*settled=*/false, false, to_fallback, 1000, 1800}},
                              &ended, 1700, 9000, 3, send_to(to_default, 1700),
                              &jobs) == store::Status::ok);
  CHECK(ended == std::vector<store::Status>{store::Status::ok, store::Status::refused});
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0].correlation_id == id_c);
  CHECK(jobs[0].state == store::PaymentState::leased);
  store::QueueCounts counts;
  REQUIRE(q.one.counts(&counts) == store::Status::ok);
  CHECK(counts.settled[0] == 1);
  CHECK(counts.in_flight == 2);  // b with its second worker, and c.

  // Nothing due: the outcomes are still written, and the answer is refused.
  REQUIRE(q.two.end_and_claim({{b_again, true, false, to_fallback, 1600, 1900},
                               {jobs[0], true, false, to_default, 1700, 1900}},
                              &ended, 1900, 9000, 3, send_to(to_default, 1900),
                              &jobs) == store::Status::refused);
  CHECK(ended == std::vector<store::Status>{store::Status::ok, store::Status::ok});
  CHECK(jobs.empty());
  REQUIRE(q.one.counts(&counts) == store::Status::ok);
  CHECK(counts.settled[0] == 2);
  CHECK(counts.settled[1] == 1);
  CHECK(counts.queued + counts.in_flight == 0);
}

void claims_most_overdue_first(Sessions q) {
  for (int n = 0; n < 5; ++n) REQUIRE(q.one.accept(id_of(n), 100, 1000 + n) == store::Status::ok);
  std::vector<store::Status> ended;
  std::vector<store::PaymentJob> jobs;
  REQUIRE(q.one.end_and_claim({}, &ended, 2000, 9000, 3, send_to(to_default, 2000), &jobs) ==
          store::Status::ok);
  REQUIRE(jobs.size() == 3);
  CHECK(jobs[0].correlation_id == id_of(0));
  CHECK(jobs[1].correlation_id == id_of(1));
  CHECK(jobs[2].correlation_id == id_of(2));
  CHECK(jobs[0].lease_token != jobs[1].lease_token);
  REQUIRE(q.two.end_and_claim({}, &ended, 2000, 9000, 3, send_to(to_default, 2000), &jobs) ==
          store::Status::ok);
  CHECK(jobs.size() == 2);
  CHECK(q.two.end_and_claim({}, &ended, 2000, 9000, 3, send_to(to_default, 2000), &jobs) ==
        store::Status::refused);
}

void summary_bounds(Sessions q) {
  REQUIRE(q.one.accept(id_a, 2005, 1000) == store::Status::ok);
  REQUIRE(q.one.accept(id_b, 1000, 1000) == store::Status::ok);
  store::PaymentJob a, b;
  REQUIRE(q.one.claim(1000, 9000, send_to(to_default, 1000), &a) == store::Status::ok);
  REQUIRE(q.one.claim(1000, 9000, send_to(to_fallback, 1000), &b) == store::Status::ok);
  std::array<store::ProcessorTotals, 2> totals;
  int64_t in_flight = 0;
  REQUIRE(q.one.summary(0, 5000, 9999, &totals, &in_flight) == store::Status::ok);
  CHECK(in_flight == 2);
  CHECK(totals[0].requests == 0);
  REQUIRE(q.one.settle(a, to_default, 1234, 1500) == store::Status::ok);
  REQUIRE(q.one.settle(b, to_fallback, 1235, 1500) == store::Status::ok);
  // Asked as of 1499: neither had settled yet.
  REQUIRE(q.one.summary(1234, 1235, 1499, &totals, &in_flight) == store::Status::ok);
  CHECK(totals[0].requests + totals[1].requests == 0);
  REQUIRE(q.one.summary(1234, 1235, 9999, &totals, &in_flight) == store::Status::ok);
  CHECK(in_flight == 0);
  CHECK(totals[0].requests == 1);
  CHECK(totals[0].amount_cents == 2005);
  CHECK(totals[1].requests == 1);
  REQUIRE(q.one.summary(1235, 1235, 9999, &totals, &in_flight) == store::Status::ok);
  CHECK(totals[0].requests == 0);
  CHECK(totals[1].requests == 1);
  REQUIRE(q.one.summary(1236, 9000, 9999, &totals, &in_flight) == store::Status::ok);
  CHECK(totals[0].requests + totals[1].requests == 0);
  REQUIRE(q.one.purge() == store::Status::ok);
  REQUIRE(q.one.summary(0, 9000, 9999, &totals, &in_flight) == store::Status::ok);
  CHECK(totals[0].requests + totals[1].requests == 0);
}

void health_lease(Sessions q) {
  CHECK(q.one.take_lease("health", "a", 1000, 2000) == store::Status::ok);
  CHECK(q.two.take_lease("health", "b", 1500, 2500) == store::Status::refused);
  CHECK(q.one.take_lease("health", "a", 1600, 2600) == store::Status::ok);
  CHECK(q.two.take_lease("health", "b", 2601, 3600) == store::Status::ok);
}

void concurrent_claims_never_share(Sessions q) {
  constexpr int payments = 300;
  constexpr int claims_per_round = 5;
  for (int n = 0; n < payments; ++n) {
    REQUIRE(q.one.accept(id_of(n), 100, 1000 + n) == store::Status::ok);
  }
  // Each thread claims with its own session until nothing is due; the leases outlive the test.
  const auto claim_all = [](store::PaymentsSession* session, std::vector<int64_t>* ids,
                            std::vector<store::Status>* failures) {
    std::vector<store::Status> ended;
    std::vector<store::PaymentJob> jobs;
    while (true) {
      const store::Status status = session->end_and_claim(
          {}, &ended, 5000, 1'000'000, claims_per_round, send_to(to_default, 5000), &jobs);
      if (status == store::Status::refused) return;
      if (status != store::Status::ok) {
        failures->push_back(status);
        if (failures->size() > 100) return;
        continue;
      }
      for (const store::PaymentJob& job : jobs) ids->push_back(job.id);
    }
  };
  std::vector<int64_t> ids_one, ids_two;
  std::vector<store::Status> failures_one, failures_two;
  std::thread other(claim_all, &q.two, &ids_two, &failures_two);
  claim_all(&q.one, &ids_one, &failures_one);
  other.join();
  CHECK(failures_one.empty());
  CHECK(failures_two.empty());
  INFO("claimed by one: " << ids_one.size() << ", by two: " << ids_two.size());
  std::set<int64_t> all(ids_one.begin(), ids_one.end());
  CHECK(all.size() == ids_one.size());
  for (const int64_t id : ids_two) CHECK(all.insert(id).second);  // Never claimed by both.
  CHECK(all.size() == static_cast<size_t>(payments));
  store::QueueCounts counts;
  REQUIRE(q.one.counts(&counts) == store::Status::ok);
  CHECK(counts.in_flight == payments);
  CHECK(counts.queued == 0);
}

void health_rows_round_trip(Sessions q) {
  std::array<store::HealthRow, store::processor_count> rows;
  REQUIRE(q.one.read_health(&rows) == store::Status::ok);
  CHECK(rows[0].checked_ms == 0);
  CHECK(rows[1].checked_ms == 0);
  REQUIRE(q.one.write_health(to_fallback, {true, 35, 1234}) == store::Status::ok);
  REQUIRE(q.two.read_health(&rows) == store::Status::ok);
  CHECK_FALSE(rows[0].failing);
  CHECK(rows[0].checked_ms == 0);
  CHECK(rows[1].failing);
  CHECK(rows[1].min_response_ms == 35);
  CHECK(rows[1].checked_ms == 1234);
}

}  // namespace payments_store_cases
