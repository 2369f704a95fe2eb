// The payments queue in SQLite (src/store/sqlite/payments_connection.h): the cases every payments
// store passes (payments_store_cases.h: duplicates, leases that keep a payment with one worker, an
// expired lease handed to the next claimer, a stale worker that writes nothing, alone or among the
// outcomes written together, batches of claims in due order, concurrent claimers, the summary's
// inclusive bounds on requestedAt, the health lease and rows), and claims that read the due-work
// index, so that their cost does not grow with the backlog.
#include <SQLiteCpp/Database.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>

#include "payments_store_cases.h"
#include "store/sqlite/payments_connection.h"
#include "store/sqlite/schema.h"
#include "support/temp_dir.h"

namespace cases = payments_store_cases;

namespace {

constexpr store::Processor to_default = store::Processor::default_processor;

struct Queue {
  TempDir dir;
  std::shared_ptr<store::WriterLock> writer_lock;
  std::unique_ptr<store::SqlitePaymentsConnection> one, two;
  Queue() {
    std::string error;
    REQUIRE(store::apply_schema(dir.file("crebito.db")) == store::Status::ok);
    writer_lock = store::WriterLock::open(dir.file("crebito.db"), &error);
    REQUIRE(writer_lock);
    one = store::SqlitePaymentsConnection::open({dir.file("crebito.db"), 100}, writer_lock.get(),
                                                &error);
    two = store::SqlitePaymentsConnection::open({dir.file("crebito.db"), 100}, writer_lock.get(),
                                                &error);
    REQUIRE(one);
    REQUIRE(two);
  }
  cases::Sessions sessions() { return {*one, *two}; }
};

// A distinct correlationId per n.
std::string id_of(int n) {
  char id[40];
  std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012x", n);
  return id;
}

// `claims` claims at now_ms, each settled when it succeeds.
void claim_and_settle(store::SqlitePaymentsConnection& connection, int claims, int64_t now_ms) {
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
store::SqlitePaymentsConnection::QueryCost claims_cost(Queue& q, int claims, int64_t now_ms) {
  std::string error;
  auto connection = store::SqlitePaymentsConnection::open({q.dir.file("crebito.db"), 100},
                                                          q.writer_lock.get(), &error);
  REQUIRE(connection);
  claim_and_settle(*connection, claims, now_ms);
  return connection->test_due_query_cost();
}

}  // namespace

TEST_CASE("a correlationId is queued once", "[unit][payments][store]") {
  Queue q;
  cases::correlation_id_queued_once(q.sessions());
}

TEST_CASE("a leased payment is not claimed again until its lease expires",
          "[unit][payments][store]") {
  Queue q;
  cases::leased_until_expiry(q.sessions());
}

TEST_CASE("a requeued payment waits for its due time", "[unit][payments][store]") {
  Queue q;
  cases::requeued_waits(q.sessions());
}

TEST_CASE("outcomes and claims in one transaction: each outcome written only under its lease",
          "[unit][payments][store]") {
  Queue q;
  cases::outcomes_under_lease(q.sessions());
}

TEST_CASE("one claim leases up to as many due payments as asked, the most overdue first",
          "[unit][payments][store]") {
  Queue q;
  cases::claims_most_overdue_first(q.sessions());
}

TEST_CASE("the summary counts settled payments with requestedAt inside both bounds",
          "[unit][payments][store]") {
  Queue q;
  cases::summary_bounds(q.sessions());
}

TEST_CASE("the health lease is held by one owner until it expires", "[unit][payments][store]") {
  Queue q;
  cases::health_lease(q.sessions());
}

TEST_CASE("two sessions claiming at once never lease the same payment", "[unit][payments][store]") {
  Queue q;
  cases::concurrent_claims_never_share(q.sessions());
}

TEST_CASE("the processors' health rows are shared by every session", "[unit][payments][store]") {
  Queue q;
  cases::health_rows_round_trip(q.sessions());
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
