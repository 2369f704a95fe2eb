// payments::HealthPoller on a real SQLite file against two processor stand-ins: it stores each
// processor's health answer, polls only while its instance is active, at most once per interval
// per processor, and only while it holds the health lease (one instance at a time).
#include "payments/health_poller.h"

#include <catch2/catch.hpp>

#include "clock.h"
#include "payments_fixture.h"
#include "support/processor_sim.h"

using payments::HealthPoller;
using payments_fixture::QueueFile;

namespace {

struct Processors {
  TempDir logs;
  ProcessorSim default_sim{"0.05", logs.file("default.log"), {"--health-window-ms", "1"}};
  ProcessorSim fallback_sim{"0.15", logs.file("fallback.log"), {"--health-window-ms", "1"}};
};

std::array<store::HealthRow, payments::processor_count> stored(const QueueFile& file) {
  std::array<store::HealthRow, payments::processor_count> rows;
  REQUIRE(file.connect()->read_health(&rows) == store::Status::ok);
  return rows;
}

}  // namespace

TEST_CASE("health poller: stores each processor's answer while its instance is active",
          "[unit][payments][health]") {
  QueueFile file;
  Processors processors;
  REQUIRE(processors.default_sim.set_failure(true));
  REQUIRE(processors.fallback_sim.set_delay(35));
  HealthPoller poller(file.store.get(), processors.default_sim.url(), processors.fallback_sim.url(),
                      "instance-a");
  // No payment seen yet: no call.
  CHECK(poller.poll() == 0);
  CHECK(stored(file)[0].checked_ms == 0);

  const int64_t before = clocks::wall_ms();
  poller.note_activity(before);
  CHECK(poller.poll() == 2);
  const auto rows = stored(file);
  CHECK(rows[0].failing);
  CHECK(rows[0].checked_ms >= before);
  CHECK_FALSE(rows[1].failing);
  CHECK(rows[1].min_response_ms == 35);
  CHECK(rows[1].checked_ms >= before);
  // Both answers are fresh: the next pass within the interval calls nobody.
  CHECK(poller.poll() == 0);
}

TEST_CASE("health poller: one instance at a time holds the lease and polls",
          "[unit][payments][health]") {
  QueueFile file;
  Processors processors;
  HealthPoller a(file.store.get(), processors.default_sim.url(), processors.fallback_sim.url(),
                 "instance-a");
  HealthPoller b(file.store.get(), processors.default_sim.url(), processors.fallback_sim.url(),
                 "instance-b");
  a.note_activity(clocks::wall_ms());
  b.note_activity(clocks::wall_ms());
  CHECK(a.poll() == 2);
  // Make the answers stale: b would poll them, but a holds the lease.
  store::HealthRow old{false, 0, 1};
  REQUIRE(file.connect()->write_health(store::Processor::default_processor, old) ==
          store::Status::ok);
  CHECK(b.poll() == 0);
  CHECK(stored(file)[0].checked_ms == 1);
  CHECK(a.poll() == 1);
}

TEST_CASE("health poller: an answer it cannot read keeps the last one, with the time of the try",
          "[unit][payments][health]") {
  QueueFile file;
  TempDir logs;
  std::string gone_url;
  {
    ProcessorSim gone("0.05", logs.file("gone.log"));
    gone_url = gone.url();
  }
  ProcessorSim fallback_sim("0.15", logs.file("fallback.log"), {"--health-window-ms", "1"});
  store::HealthRow last{true, 70, 1};
  REQUIRE(file.connect()->write_health(store::Processor::default_processor, last) ==
          store::Status::ok);
  HealthPoller poller(file.store.get(), gone_url, fallback_sim.url(), payments::health_owner());
  poller.note_activity(clocks::wall_ms());
  const int64_t before = clocks::wall_ms();
  CHECK(poller.poll() == 2);
  const auto rows = stored(file);
  CHECK(rows[0].failing);  // Not turned into "healthy" by a processor that did not answer.
  CHECK(rows[0].min_response_ms == 70);
  CHECK(rows[0].checked_ms >= before);
}

TEST_CASE("health poller: started, it polls on its own until stop()", "[unit][payments][health]") {
  QueueFile file;
  Processors processors;
  HealthPoller poller(file.store.get(), processors.default_sim.url(), processors.fallback_sim.url(),
                      payments::health_owner());
  poller.note_activity(clocks::wall_ms());
  poller.start();
  REQUIRE(wait_until([&] { return stored(file)[1].checked_ms > 0; }));
  CHECK(stored(file)[0].checked_ms > 0);
  poller.stop();
}

TEST_CASE("health poller: after its file was replaced, it stores the answers in the new file",
          "[unit][payments][health][moved]") {
  QueueFile file;
  Processors processors;
  HealthPoller poller(file.store.get(), processors.default_sim.url(), processors.fallback_sim.url(),
                      payments::health_owner());
  poller.note_activity(clocks::wall_ms());
  REQUIRE(poller.poll() == 2);
  // The answers in the copy are old, so that the poller calls both processors again.
  const store::HealthRow old{false, 0, 1};
  REQUIRE(file.connect()->write_health(store::Processor::default_processor, old) ==
          store::Status::ok);
  REQUIRE(file.connect()->write_health(store::Processor::fallback, old) == store::Status::ok);
  file.replace_by_copy();

  const int64_t before = clocks::wall_ms();
  poller.note_activity(before);
  // The first pass finds the old file gone (its session answers unavailable); a later one runs on
  // the file in its place.
  CHECK(wait_until([&] { return poller.poll() == 2; }));
  const auto rows = stored(file);
  CHECK(rows[0].checked_ms >= before);
  CHECK(rows[1].checked_ms >= before);
}
