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
using payments_store_cases::id_of;

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

// `claims` claims at now_ms, each settled when it succeeds.
void claim_and_settle(store::SqlitePaymentsConnection& connection, int claims, int64_t now_ms) {
  for (int i = 0; i < claims; ++i) {
    store::PaymentJob job;
    if (connection.claim(now_ms, now_ms + 1000, cases::send_to(to_default, now_ms), &job) ==
        store::Status::ok) {
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

PAYMENTS_STORE_CASES(Queue, "", "[unit][payments][store]")

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
