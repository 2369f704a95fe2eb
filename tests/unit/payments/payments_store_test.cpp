// The payments queue in SQLite (src/store/payments.h): duplicates, leases that keep a payment with
// one worker, an expired lease handed to the next claimer, a stale worker that writes nothing
// (alone or among the outcomes written together), batches of claims in due order,
// the summary's inclusive bounds on requestedAt, and claims that read the due-work index, so that
// their cost does not grow with the backlog.
#include <SQLiteCpp/Database.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>

#include "store/payments.h"
#include "store/schema.h"
#include "support/temp_dir.h"

namespace {

constexpr store::Processor to_default = store::Processor::default_processor;
constexpr store::Processor to_fallback = store::Processor::fallback;
const std::string id_a = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b1";
const std::string id_b = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b2";

struct Queue {
  TempDir dir;
  std::shared_ptr<store::WriterLock> writer_lock;
  std::unique_ptr<store::PaymentsConnection> one, two;
  Queue() {
    std::string error;
    REQUIRE(store::apply_schema(dir.file("crebito.db"), &error));
    writer_lock = store::WriterLock::open(dir.file("crebito.db"), &error);
    REQUIRE(writer_lock);
    one = store::PaymentsConnection::open({dir.file("crebito.db"), 100}, writer_lock.get(), &error);
    two = store::PaymentsConnection::open({dir.file("crebito.db"), 100}, writer_lock.get(), &error);
    REQUIRE(one);
    REQUIRE(two);
  }
};

// A distinct correlationId per n.
std::string id_of(int n) {
  char id[40];
  std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012x", n);
  return id;
}

// `claims` claims at now_ms, each settled when it succeeds.
void claim_and_settle(store::PaymentsConnection& connection, int claims, int64_t now_ms) {
  for (int i = 0; i < claims; ++i) {
    store::PaymentJob job;
    const auto decide = [now_ms](store::PaymentJob* j) {
      j->processor = to_default;
      j->requested_at_ms = now_ms;
      ++j->attempts;
    };
    if (connection.claim(now_ms, now_ms + 1000, decide, &job) == store::Status::ok) {
      REQUIRE(connection.settle(job, to_default, now_ms, now_ms) == store::Status::ok);
    }
  }
}

// What `claims` claims at now_ms cost the due-work queries of a fresh connection to q's file.
store::PaymentsConnection::QueryCost claims_cost(Queue& q, int claims, int64_t now_ms) {
  std::string error;
  auto connection =
      store::PaymentsConnection::open({q.dir.file("crebito.db"), 100}, q.writer_lock.get(), &error);
  REQUIRE(connection);
  claim_and_settle(*connection, claims, now_ms);
  return connection->test_due_query_cost();
}

// A decision that sends the attempt to `processor` at `now`.
auto send_to(store::Processor processor, int64_t now) {
  return [processor, now](store::PaymentJob* job) {
    job->processor = processor;
    job->requested_at_ms = now;
    ++job->attempts;
  };
}

}  // namespace

TEST_CASE("a correlationId is queued once", "[unit][payments][store]") {
  Queue q;
  CHECK(q.one->accept(id_a, 2005, 1000) == store::Status::ok);
  CHECK(q.two->accept(id_a, 2005, 1001) == store::Status::refused);
  store::QueueCounts counts;
  REQUIRE(q.one->counts(&counts) == store::Status::ok);
  CHECK(counts.accepted == 1);
  CHECK(counts.queued == 1);
}

TEST_CASE("a leased payment is not claimed again until its lease expires",
          "[unit][payments][store]") {
  Queue q;
  REQUIRE(q.one->accept(id_a, 2005, 1000) == store::Status::ok);
  store::PaymentJob first, second;
  REQUIRE(q.one->claim(1000, 2000, send_to(to_default, 1000), &first) == store::Status::ok);
  CHECK(first.correlation_id == id_a);
  CHECK(first.attempts == 1);
  CHECK(q.two->claim(1999, 3000, send_to(to_fallback, 1999), &second) == store::Status::refused);

  // After the lease: the next claimer sees the dead worker's attempt (leased, processor 0).
  store::PaymentJob seen;
  auto record = [&seen](store::PaymentJob* job) {
    seen = *job;
    ++job->attempts;
    job->pinned = true;  // What the forwarder decides for an expired lease.
  };
  REQUIRE(q.two->claim(2001, 4000, record, &second) == store::Status::ok);
  CHECK(seen.state == store::PaymentState::leased);
  CHECK(seen.processor == to_default);
  CHECK(seen.requested_at_ms == 1000);
  CHECK(second.lease_token != first.lease_token);

  // The first worker comes back late: its lease is gone, it writes nothing.
  CHECK(q.one->settle(first, to_default, 1000, 2002) == store::Status::refused);
  CHECK(q.one->requeue(first, false, to_fallback, 1000, 2002) == store::Status::refused);
  CHECK(q.two->settle(second, to_default, 1000, 2003) == store::Status::ok);
  store::QueueCounts counts;
  REQUIRE(q.one->counts(&counts) == store::Status::ok);
  CHECK(counts.settled[0] == 1);
  CHECK(counts.retried == 1);
  CHECK(counts.queued + counts.in_flight == 0);
}

TEST_CASE("a requeued payment waits for its due time", "[unit][payments][store]") {
  Queue q;
  REQUIRE(q.one->accept(id_a, 2005, 1000) == store::Status::ok);
  store::PaymentJob job;
  REQUIRE(q.one->claim(1000, 9000, send_to(to_default, 1000), &job) == store::Status::ok);
  REQUIRE(q.one->requeue(job, true, to_default, 1000, 1500) == store::Status::ok);
  CHECK(q.two->claim(1499, 9000, send_to(to_default, 1499), &job) == store::Status::refused);
  CHECK(q.two->claim(1500, 9000, send_to(to_default, 1500), &job) == store::Status::ok);
}

TEST_CASE("outcomes and claims in one transaction: each outcome written only under its lease",
          "[unit][payments][store]") {
  Queue q;
  const std::string id_c = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3";
  REQUIRE(q.one->accept(id_a, 2005, 1000) == store::Status::ok);
  REQUIRE(q.one->accept(id_b, 1000, 1000) == store::Status::ok);
  store::PaymentJob a, b, b_again;
  REQUIRE(q.one->claim(1000, 2000, send_to(to_default, 1000), &a) == store::Status::ok);
  REQUIRE(q.one->claim(1000, 1500, send_to(to_fallback, 1000), &b) == store::Status::ok);
  // b's lease expires and another worker takes it: b's first worker must write nothing.
  REQUIRE(q.two->claim(1600, 9000, send_to(to_fallback, 1600), &b_again) == store::Status::ok);
  REQUIRE(b_again.id == b.id);
  REQUIRE(q.one->accept(id_c, 700, 1650) == store::Status::ok);

  std::vector<store::Status> ended;
  std::vector<store::PaymentJob> jobs;
  // a settles, b's stale outcome is refused, and the one payment due (c) is claimed, though
  // three were asked for.
  REQUIRE(q.one->end_and_claim({{a, /*settled=*/true, false, to_default, 1000, 1700},
                                {b, /*settled=*/false, false, to_fallback, 1000, 1800}},
                               &ended, 1700, 9000, 3, send_to(to_default, 1700),
                               &jobs) == store::Status::ok);
  CHECK(ended == std::vector<store::Status>{store::Status::ok, store::Status::refused});
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0].correlation_id == id_c);
  CHECK(jobs[0].state == store::PaymentState::leased);
  store::QueueCounts counts;
  REQUIRE(q.one->counts(&counts) == store::Status::ok);
  CHECK(counts.settled[0] == 1);
  CHECK(counts.in_flight == 2);  // b with its second worker, and c.

  // Nothing due: the outcomes are still written, and the answer is refused.
  REQUIRE(q.two->end_and_claim({{b_again, true, false, to_fallback, 1600, 1900},
                                {jobs[0], true, false, to_default, 1700, 1900}},
                               &ended, 1900, 9000, 3, send_to(to_default, 1900),
                               &jobs) == store::Status::refused);
  CHECK(ended == std::vector<store::Status>{store::Status::ok, store::Status::ok});
  CHECK(jobs.empty());
  REQUIRE(q.one->counts(&counts) == store::Status::ok);
  CHECK(counts.settled[0] == 2);
  CHECK(counts.settled[1] == 1);
  CHECK(counts.queued + counts.in_flight == 0);
}

TEST_CASE("one claim leases up to as many due payments as asked, the most overdue first",
          "[unit][payments][store]") {
  Queue q;
  for (int n = 0; n < 5; ++n) REQUIRE(q.one->accept(id_of(n), 100, 1000 + n) == store::Status::ok);
  std::vector<store::Status> ended;
  std::vector<store::PaymentJob> jobs;
  REQUIRE(q.one->end_and_claim({}, &ended, 2000, 9000, 3, send_to(to_default, 2000), &jobs) ==
          store::Status::ok);
  REQUIRE(jobs.size() == 3);
  CHECK(jobs[0].correlation_id == id_of(0));
  CHECK(jobs[1].correlation_id == id_of(1));
  CHECK(jobs[2].correlation_id == id_of(2));
  CHECK(jobs[0].lease_token != jobs[1].lease_token);
  REQUIRE(q.two->end_and_claim({}, &ended, 2000, 9000, 3, send_to(to_default, 2000), &jobs) ==
          store::Status::ok);
  CHECK(jobs.size() == 2);
  CHECK(q.two->end_and_claim({}, &ended, 2000, 9000, 3, send_to(to_default, 2000), &jobs) ==
        store::Status::refused);
}

TEST_CASE("the summary counts settled payments with requestedAt inside both bounds",
          "[unit][payments][store]") {
  Queue q;
  REQUIRE(q.one->accept(id_a, 2005, 1000) == store::Status::ok);
  REQUIRE(q.one->accept(id_b, 1000, 1000) == store::Status::ok);
  store::PaymentJob a, b;
  REQUIRE(q.one->claim(1000, 9000, send_to(to_default, 1000), &a) == store::Status::ok);
  REQUIRE(q.one->claim(1000, 9000, send_to(to_fallback, 1000), &b) == store::Status::ok);
  std::array<store::ProcessorTotals, 2> totals;
  int64_t in_flight = 0;
  REQUIRE(q.one->summary(0, 5000, 9999, &totals, &in_flight) == store::Status::ok);
  CHECK(in_flight == 2);
  CHECK(totals[0].requests == 0);
  REQUIRE(q.one->settle(a, to_default, 1234, 1500) == store::Status::ok);
  REQUIRE(q.one->settle(b, to_fallback, 1235, 1500) == store::Status::ok);
  // Asked as of 1499: neither had settled yet.
  REQUIRE(q.one->summary(1234, 1235, 1499, &totals, &in_flight) == store::Status::ok);
  CHECK(totals[0].requests + totals[1].requests == 0);
  REQUIRE(q.one->summary(1234, 1235, 9999, &totals, &in_flight) == store::Status::ok);
  CHECK(in_flight == 0);
  CHECK(totals[0].requests == 1);
  CHECK(totals[0].amount_cents == 2005);
  CHECK(totals[1].requests == 1);
  REQUIRE(q.one->summary(1235, 1235, 9999, &totals, &in_flight) == store::Status::ok);
  CHECK(totals[0].requests == 0);
  CHECK(totals[1].requests == 1);
  REQUIRE(q.one->summary(1236, 9000, 9999, &totals, &in_flight) == store::Status::ok);
  CHECK(totals[0].requests + totals[1].requests == 0);
  REQUIRE(q.one->purge() == store::Status::ok);
  REQUIRE(q.one->summary(0, 9000, 9999, &totals, &in_flight) == store::Status::ok);
  CHECK(totals[0].requests + totals[1].requests == 0);
}

TEST_CASE("the health lease is held by one owner until it expires", "[unit][payments][store]") {
  Queue q;
  CHECK(q.one->take_lease("health", "a", 1000, 2000) == store::Status::ok);
  CHECK(q.two->take_lease("health", "b", 1500, 2500) == store::Status::refused);
  CHECK(q.one->take_lease("health", "a", 1600, 2600) == store::Status::ok);
  CHECK(q.two->take_lease("health", "b", 2601, 3600) == store::Status::ok);
}

TEST_CASE("claims read the due-work index: no full scan, no sort, whatever the backlog",
          "[unit][payments][store]") {
  // Before payments_due (schema.sql) each claim sorted every unsettled row under the write lock,
  // and the idle look read every queued one (100 claims took 289 ms with 20,000 queued against
  // 9 ms with 400), so forwarding fell further behind the longer the queue grew. SQLite's own
  // counters say whether a query scans or sorts, independently of the machine's speed.
  constexpr int short_queue = 400;
  constexpr int long_queue = 20'000;
  constexpr int claims = 100;
  Queue short_q, long_q;
  for (int n = 0; n < long_queue; ++n) {
    if (n < short_queue) REQUIRE(short_q.one->accept(id_of(n), 100, 1000 + n) == store::Status::ok);
    REQUIRE(long_q.one->accept(id_of(n), 100, 1000 + n) == store::Status::ok);
  }
  SECTION("due payments: the most overdue is found without sorting or scanning the rest") {
    const auto short_cost = claims_cost(short_q, claims, 100'000);
    const auto long_cost = claims_cost(long_q, claims, 100'000);
    INFO("virtual machine steps: short queue " << short_cost.vm_steps << ", long queue "
                                               << long_cost.vm_steps);
    CHECK(long_cost.fullscan_steps == 0);
    CHECK(long_cost.sorts == 0);
    CHECK(short_cost.fullscan_steps == 0);
    CHECK(short_cost.sorts == 0);
    // The same work per claim, 50 times the backlog.
    CHECK(long_cost.vm_steps == short_cost.vm_steps);
  }
  SECTION("nothing due yet: the idle look does not read the queue") {
    const auto short_cost = claims_cost(short_q, claims, 999);
    const auto long_cost = claims_cost(long_q, claims, 999);
    CHECK(long_cost.fullscan_steps == 0);
    CHECK(long_cost.sorts == 0);
    CHECK(long_cost.vm_steps == short_cost.vm_steps);
  }
  SECTION("the counters catch a query that scans: without the index, the claims sort and scan") {
    {
      SQLite::Database db(long_q.dir.file("crebito.db"), SQLite::OPEN_READWRITE);
      db.exec("DROP INDEX payments_due");
    }
    const auto cost = claims_cost(long_q, claims, 100'000);
    CHECK(cost.sorts > 0);
    CHECK(cost.fullscan_steps > 0);
  }
}
