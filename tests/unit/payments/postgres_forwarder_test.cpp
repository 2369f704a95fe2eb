// The payments face on PostgreSQL, end to end within one process: two instances' request sides
// (payments::Payments) and forwarders, each with a store of its own on one real cluster, share the
// queue against two processor stand-ins. Every payment either accepted is recorded by exactly one
// processor, once, and settled for that processor; the summary agrees with the processors.
#include <catch2/catch.hpp>

#include "clock.h"
#include "payments/forwarder.h"
#include "payments/payments.h"
#include "payments_fixture.h"
#include "store/postgres/payments_store.h"
#include "support/pg_cluster.h"
#include "support/processor_books.h"
#include "support/processor_sim.h"

using payments_fixture::id_of;

namespace {

constexpr int store_sessions = 4;

struct Instance {
  std::unique_ptr<store::PaymentsStore> store;
  std::unique_ptr<payments::Payments> face;
  std::unique_ptr<payments::Forwarder> forwarder;

  Instance(const std::string& uri, const ProcessorSim& default_sim,
           const ProcessorSim& fallback_sim) {
    const store::Status opened = store::open_payments_store(
        {store::Location::Kind::postgresql, "", uri}, {0, store_sessions}, &store);
    INFO(opened.message());
    REQUIRE(opened == store::Status::ok);
    face = std::make_unique<payments::Payments>(store.get());
    forwarder = std::make_unique<payments::Forwarder>(payments::ForwarderConfig{
        store.get(), default_sim.url(), fallback_sim.url(), /*workers=*/4, /*timeout_ms=*/2000});
    forwarder->start();
    face->on_accepted([this] { forwarder->wake(); });
  }
};

}  // namespace

TEST_CASE("two instances on one PostgreSQL forward every payment once, to one processor",
          "[postgresql][payments][forwarder]") {
  PgCluster cluster;
  TempDir logs;
  ProcessorSim default_sim{"0.05", logs.file("default.log")};
  ProcessorSim fallback_sim{"0.15", logs.file("fallback.log")};
  Instance one(cluster.uri(), default_sim, fallback_sim);
  Instance two(cluster.uri(), default_sim, fallback_sim);

  constexpr int accepted = 60;
  for (int n = 1; n <= accepted; ++n) {
    Instance& instance = n % 2 == 0 ? one : two;
    REQUIRE(instance.face->accept(id_of(n), 100 + n) == payments::Outcome::ok);
  }
  // Again through the other instance: accepted, and still one payment each.
  REQUIRE(one.face->accept(id_of(1), 101) == payments::Outcome::ok);
  payments::Consistency consistency;
  REQUIRE(wait_until([&] {
    return one.face->consistency(&consistency) == payments::Outcome::ok &&
           consistency.settled_default + consistency.settled_fallback == accepted;
  }));
  CHECK(consistency.accepted == accepted);
  CHECK(consistency.in_flight + consistency.queued == 0);

  const ProcessorBooks books = check_held_once(default_sim, fallback_sim, accepted);
  CHECK(consistency.settled_default == static_cast<int64_t>(books.on_default.size()));
  CHECK(consistency.settled_fallback == static_cast<int64_t>(books.on_fallback.size()));

  payments::Summary summary;
  REQUIRE(two.face->summary(0, clocks::wall_ms() + 1000, &summary) == payments::Outcome::ok);
  CHECK(summary.default_totals.requests == static_cast<int64_t>(books.on_default.size()));
  CHECK(summary.fallback_totals.requests == static_cast<int64_t>(books.on_fallback.size()));
  int64_t cents = 0;
  for (int n = 1; n <= accepted; ++n) cents += 100 + n;
  CHECK(summary.default_totals.amount_cents + summary.fallback_totals.amount_cents == cents);

  one.forwarder->stop();
  two.forwarder->stop();
}
