// The payments queue on PostgreSQL (src/store/postgres/payments_store.h), each case on a throwaway
// cluster of its own (support/pg_cluster.h): the cases every payments store passes
// (payments_store_cases.h, the same bodies as SQLite's), an outcome that waits for the row lock
// while another worker takes the lease over writes nothing, and a server stopped like a power cut:
// every operation answers unavailable and writes nothing, then the store serves again by itself.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <thread>

#include "payments_store_cases.h"
#include "store/postgres/payments_store.h"
#include "store/postgres/pg_connection.h"
#include "store/postgres/schema.h"
#include "support/pg_cluster.h"
#include "support/wait_until.h"

namespace cases = payments_store_cases;
using payments_store_cases::send_to;

namespace {

constexpr store::Processor to_default = store::Processor::default_processor;
const std::string id_a = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b1";
const std::string id_b = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b2";
const std::string id_c = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b3";

// A fresh cluster with the schema applied, and two sessions of the payments store on it.
struct Queue {
  PgCluster cluster;
  std::unique_ptr<store::PostgresPaymentsConnection> one, two;
  Queue() {
    std::string error;
    INFO(error);
    REQUIRE(store::pg::apply_schema(cluster.uri()) == store::Status::ok);
    one = store::PostgresPaymentsConnection::open(cluster.uri(), &error);
    REQUIRE(one);
    two = store::PostgresPaymentsConnection::open(cluster.uri(), &error);
    REQUIRE(two);
  }
  cases::Sessions sessions() { return {*one, *two}; }
  int64_t rows(const std::string& where) {
    return std::stoll(cluster.psql("SELECT count(*) FROM payments WHERE " + where));
  }
};

}  // namespace

PAYMENTS_STORE_CASES(Queue, " (PostgreSQL)", "[postgresql][payments][store]")

TEST_CASE("an outcome waiting for the row while its lease is taken over writes nothing",
          "[postgresql][payments][store]") {
  Queue q;
  REQUIRE(q.one->accept(id_a, 2005, 1000) == store::Status::ok);
  store::PaymentJob first;
  REQUIRE(q.one->claim(1000, 2000, send_to(to_default, 1000), &first) == store::Status::ok);

  // Another worker's claim of the expired lease, still open: it holds the row.
  std::string error;
  auto taker = store::pg::Connection::open(q.cluster.uri(), {}, &error);
  REQUIRE(taker);
  REQUIRE(taker->begin() == store::Status::ok);
  REQUIRE(
      taker->run(("UPDATE payments SET lease_token = lease_token + 1, due_ms = 9000 WHERE id = " +
                  std::to_string(first.id))
                     .c_str()) == store::Status::ok);
  // The first worker's outcome arrives late; it reads the old lease, then waits for the row.
  auto settled =
      std::async(std::launch::async, [&] { return q.one->settle(first, to_default, 1000, 2500); });
  CHECK(settled.wait_for(std::chrono::milliseconds(300)) == std::future_status::timeout);
  REQUIRE(taker->commit() == store::Status::ok);
  CHECK(settled.get() == store::Status::refused);
  CHECK(q.rows("state = 1 AND due_ms = 9000") == 1);  // Still the taker's lease.
  CHECK(q.rows("state = 2") == 0);
}

TEST_CASE("PostgreSQL stopped: unavailable and nothing written, served again once it is back",
          "[postgresql][payments][store]") {
  Queue q;
  std::unique_ptr<store::PostgresPaymentsStore> queue;
  const store::Status opened = store::PostgresPaymentsStore::open(q.cluster.uri(), 2, &queue);
  INFO(opened.message());
  REQUIRE(opened == store::Status::ok);
  REQUIRE(queue->acquire()->accept(id_a, 100, 1000) == store::Status::ok);

  q.cluster.stop_immediate();
  {
    auto session = queue->acquire();
    const store::Status accepted = session->accept(id_b, 100, 1001);
    CHECK(accepted == store::Status::unavailable);
    CHECK_FALSE(accepted.message().empty());
    cases::every_call_unavailable(*session);
    std::array<store::ProcessorTotals, 2> totals;
    int64_t in_flight = 0;
    CHECK(session->summary(0, 9000, 9000, &totals, &in_flight) == store::Status::unavailable);
  }

  q.cluster.start_again();
  CHECK(wait_until([&] { return queue->acquire()->accept(id_c, 100, 1002) == store::Status::ok; }));
  // Both sessions, held at once: each reconnects at its next use.
  CHECK(wait_until([&] {
    store::QueueCounts counts;
    return cases::two_sessions_count(*queue, &counts) && counts.accepted == 2;
  }));
  CHECK(q.rows("correlation_id = '" + id_a + "'") == 1);
  CHECK(q.rows("correlation_id = '" + id_b + "'") == 0);
  CHECK(q.rows("correlation_id = '" + id_c + "'") == 1);
  store::PaymentJob job;
  CHECK(queue->acquire()->claim(5000, 6000, send_to(to_default, 5000), &job) == store::Status::ok);
}
