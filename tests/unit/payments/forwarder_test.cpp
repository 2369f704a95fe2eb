// payments::Forwarder, its parts wired together, on a real SQLite file against two processor
// stand-ins: every queued payment is recorded by exactly one processor and settled here for that
// one; a failing default sends them to the fallback; stop() leaves no payment leased.
#include "payments/forwarder.h"

#include <catch2/catch.hpp>

#include "clock.h"
#include "payments_fixture.h"
#include "support/processor_books.h"
#include "support/processor_sim.h"

using payments_fixture::id_of;
using payments_fixture::QueueFile;

namespace {

struct Setup {
  QueueFile file;
  TempDir logs;
  ProcessorSim default_sim{"0.05", logs.file("default.log")};
  ProcessorSim fallback_sim{"0.15", logs.file("fallback.log")};
  payments::Forwarder forwarder{{file.store.get(), default_sim.url(), fallback_sim.url(),
                                 /*workers=*/4, /*timeout_ms=*/2000}};
  std::unique_ptr<store::SqlitePaymentsConnection> accepts = file.connect();

  Setup() { forwarder.start(); }
  void accept(int first, int count) {
    for (int n = first; n < first + count; ++n) {
      REQUIRE(accepts->accept(id_of(n), 100 + n, clocks::wall_ms()) == store::Status::ok);
      forwarder.wake();
    }
  }
  bool all_settled(int64_t accepted) {
    const store::QueueCounts counts = file.counts();
    return counts.accepted == accepted && counts.settled[0] + counts.settled[1] == accepted;
  }
};

// Each payment the processors hold, once, and the database agrees on where it is.
void check_books(Setup& s, int64_t accepted) {
  const ProcessorBooks books = check_held_once(s.default_sim, s.fallback_sim, accepted);
  const store::QueueCounts counts = s.file.counts();
  CHECK(counts.settled[0] == static_cast<int64_t>(books.on_default.size()));
  CHECK(counts.settled[1] == static_cast<int64_t>(books.on_fallback.size()));
}

}  // namespace

TEST_CASE("forwarder: every queued payment is recorded once and settled for that processor",
          "[unit][payments][forwarder]") {
  Setup s;
  s.accept(1, 40);
  REQUIRE(wait_until([&] { return s.all_settled(40); }));
  check_books(s, 40);
  CHECK(s.file.counts().settled[0] == 40);  // A healthy, fast default takes them all.
}

TEST_CASE("forwarder: with the default failing, payments end up on the fallback, once each",
          "[unit][payments][forwarder]") {
  Setup s;
  REQUIRE(s.default_sim.set_failure(true));
  s.accept(1, 20);
  REQUIRE(wait_until([&] { return s.all_settled(20); }));
  check_books(s, 20);
  CHECK(s.file.counts().settled[1] == 20);
}

TEST_CASE("forwarder: stop() finishes the calls in flight and writes them, none stays leased",
          "[unit][payments][forwarder]") {
  Setup s;
  REQUIRE(s.default_sim.set_delay(300));
  s.accept(1, 10);
  REQUIRE(wait_until([&] { return s.file.counts().in_flight > 0; }));
  s.forwarder.stop();
  const store::QueueCounts counts = s.file.counts();
  CHECK(counts.in_flight == 0);
  CHECK(counts.settled[0] == static_cast<int64_t>(s.default_sim.payments()->size()));
  CHECK(counts.settled[0] > 0);
  CHECK(counts.queued + counts.settled[0] + counts.settled[1] == 10);
}
