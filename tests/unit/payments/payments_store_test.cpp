// The payments queue in SQLite (src/store/payments.h): duplicates, leases that keep a payment with
// one worker, an expired lease handed to the next claimer, a stale worker that writes nothing,
// and the summary's inclusive bounds on requestedAt.
#include <catch2/catch.hpp>

#include "store/payments.h"
#include "store/schema.h"
#include "support/temp_dir.h"

namespace {

const std::string id_a = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b1";
const std::string id_b = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b2";

struct Queue {
  TempDir dir;
  std::mutex writer_mutex;
  std::unique_ptr<store::PaymentsConnection> one, two;
  Queue() {
    std::string error;
    REQUIRE(store::apply_schema(dir.file("crebito.db"), &error));
    one = store::PaymentsConnection::open({dir.file("crebito.db"), 100}, &writer_mutex, &error);
    two = store::PaymentsConnection::open({dir.file("crebito.db"), 100}, &writer_mutex, &error);
    REQUIRE(one);
    REQUIRE(two);
  }
};

// A decision that sends the attempt to `processor` at `now`.
auto send_to(int processor, int64_t now) {
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
  REQUIRE(q.one->claim(1000, 2000, send_to(0, 1000), &first) == store::Status::ok);
  CHECK(first.correlation_id == id_a);
  CHECK(first.attempts == 1);
  CHECK(q.two->claim(1999, 3000, send_to(1, 1999), &second) == store::Status::refused);

  // After the lease: the next claimer sees the dead worker's attempt (leased, processor 0).
  store::PaymentJob seen;
  auto record = [&seen](store::PaymentJob* job) {
    seen = *job;
    ++job->attempts;
    job->pinned = true;  // What the forwarder decides for an expired lease.
  };
  REQUIRE(q.two->claim(2001, 4000, record, &second) == store::Status::ok);
  CHECK(seen.state == store::PaymentState::leased);
  CHECK(seen.processor == 0);
  CHECK(seen.requested_at_ms == 1000);
  CHECK(second.lease_token != first.lease_token);

  // The first worker comes back late: its lease is gone, it writes nothing.
  CHECK(q.one->settle(first, 0, 1000, 2002) == store::Status::refused);
  CHECK(q.one->requeue(first, false, 1, 1000, 2002) == store::Status::refused);
  CHECK(q.two->settle(second, 0, 1000, 2003) == store::Status::ok);
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
  REQUIRE(q.one->claim(1000, 9000, send_to(0, 1000), &job) == store::Status::ok);
  REQUIRE(q.one->requeue(job, true, 0, 1000, 1500) == store::Status::ok);
  CHECK(q.two->claim(1499, 9000, send_to(0, 1499), &job) == store::Status::refused);
  CHECK(q.two->claim(1500, 9000, send_to(0, 1500), &job) == store::Status::ok);
}

TEST_CASE("the summary counts settled payments with requestedAt inside both bounds",
          "[unit][payments][store]") {
  Queue q;
  REQUIRE(q.one->accept(id_a, 2005, 1000) == store::Status::ok);
  REQUIRE(q.one->accept(id_b, 1000, 1000) == store::Status::ok);
  store::PaymentJob a, b;
  REQUIRE(q.one->claim(1000, 9000, send_to(0, 1000), &a) == store::Status::ok);
  REQUIRE(q.one->claim(1000, 9000, send_to(1, 1000), &b) == store::Status::ok);
  std::array<store::ProcessorTotals, 2> totals;
  int64_t in_flight = 0;
  REQUIRE(q.one->summary(0, 5000, 9999, &totals, &in_flight) == store::Status::ok);
  CHECK(in_flight == 2);
  CHECK(totals[0].requests == 0);
  REQUIRE(q.one->settle(a, 0, 1234, 1500) == store::Status::ok);
  REQUIRE(q.one->settle(b, 1, 1235, 1500) == store::Status::ok);
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
