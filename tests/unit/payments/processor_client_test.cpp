// payments::ProcessorClient against the processor stand-in (tools/processor-sim): each answer of a
// processor becomes the AttemptOutcome forwarding.h expects, a call that never connected is told
// apart from one that may have been recorded, and the health answer is read or refused.
#include "payments/processor_client.h"

#include <catch2/catch.hpp>
#include <future>

#include "clock.h"
#include "payments_fixture.h"
#include "support/processor_sim.h"

using payments::AttemptOutcome;
using payments::ProcessorClient;
using payments_fixture::id_of;

namespace {

constexpr int64_t requested_at_ms = 1'752'582'896'789;  // 2025-07-15T12:34:56.789Z

// A loopback port with nothing listening (the simulator's, once it is gone).
std::string closed_url() {
  TempDir logs;
  std::string url;
  {
    ProcessorSim sim("0.05", logs.file("sim.log"));
    url = sim.url();
  }
  return url;
}

}  // namespace

TEST_CASE("processor client: 200 is recorded, with the body the processor holds",
          "[unit][payments][processor_client]") {
  TempDir logs;
  ProcessorSim sim("0.05", logs.file("sim.log"));
  ProcessorClient client(sim.url(), 2000);
  int64_t elapsed_ms = -1;
  CHECK(client.post_payment(id_of(1), 2005, requested_at_ms, &elapsed_ms) ==
        AttemptOutcome::recorded);
  CHECK(elapsed_ms >= 0);
  const auto recorded = sim.payments();
  REQUIRE(recorded);
  REQUIRE(recorded->size() == 1);
  CHECK(recorded->front().correlation_id == id_of(1));
  CHECK(recorded->front().amount_cents == 2005);
  CHECK(recorded->front().requested_at == "2025-07-15T12:34:56.789Z");
}

TEST_CASE("processor client: a repeat is 422, duplicate, and a failing one is failed",
          "[unit][payments][processor_client]") {
  TempDir logs;
  ProcessorSim sim("0.05", logs.file("sim.log"));
  ProcessorClient client(sim.url(), 2000);
  int64_t elapsed_ms = 0;
  REQUIRE(client.post_payment(id_of(1), 100, requested_at_ms, &elapsed_ms) ==
          AttemptOutcome::recorded);
  CHECK(client.post_payment(id_of(1), 100, requested_at_ms, &elapsed_ms) ==
        AttemptOutcome::duplicate);
  REQUIRE(sim.set_failure(true));
  CHECK(client.post_payment(id_of(2), 100, requested_at_ms, &elapsed_ms) == AttemptOutcome::failed);
  REQUIRE(sim.set_failure(false));
  // The same connection serves on after a 422 and a 500.
  CHECK(client.post_payment(id_of(2), 100, requested_at_ms, &elapsed_ms) ==
        AttemptOutcome::recorded);
  CHECK(sim.payments()->size() == 2);
}

TEST_CASE("processor client: a call past the timeout is unknown, and was recorded",
          "[unit][payments][processor_client]") {
  TempDir logs;
  ProcessorSim sim("0.05", logs.file("sim.log"));
  REQUIRE(sim.set_delay(600));
  ProcessorClient client(sim.url(), 200);
  int64_t elapsed_ms = 0;
  CHECK(client.post_payment(id_of(1), 100, requested_at_ms, &elapsed_ms) ==
        AttemptOutcome::unknown);
  CHECK(elapsed_ms >= 190);  // The read timeout, give or take the clock's rounding.
  // What "unknown" guards against: the processor records it after we gave up.
  CHECK(wait_until([&] {
    const auto recorded = sim.payments();
    return recorded && recorded->size() == 1;
  }));
  // The next call opens a fresh connection and sees the duplicate.
  REQUIRE(sim.set_delay(0));
  CHECK(client.post_payment(id_of(1), 100, requested_at_ms, &elapsed_ms) ==
        AttemptOutcome::duplicate);
}

TEST_CASE("processor client: no listener is refused (nothing was sent)",
          "[unit][payments][processor_client]") {
  ProcessorClient client(closed_url(), 2000);
  int64_t elapsed_ms = 0;
  CHECK(client.post_payment(id_of(1), 100, requested_at_ms, &elapsed_ms) ==
        AttemptOutcome::refused);
  payments::HealthAnswer answer;
  CHECK_FALSE(client.service_health(&answer));
}

TEST_CASE("processor client: 429 from a processor out of permits is throttled",
          "[unit][payments][processor_client]") {
  TempDir logs;
  ProcessorSim sim("0.05", logs.file("sim.log"), {"--permits", "1", "--permit-queue", "0"});
  REQUIRE(sim.set_delay(1000));
  // Two calls at once: whichever arrives second finds the one permit taken.
  auto call = [&sim](int n) {
    ProcessorClient client(sim.url(), 5000);
    int64_t elapsed_ms = 0;
    return client.post_payment(id_of(n), 100, requested_at_ms, &elapsed_ms);
  };
  auto first = std::async(std::launch::async, call, 1);
  auto second = std::async(std::launch::async, call, 2);
  const AttemptOutcome a = first.get();
  const AttemptOutcome b = second.get();
  CHECK(((a == AttemptOutcome::recorded && b == AttemptOutcome::throttled) ||
         (a == AttemptOutcome::throttled && b == AttemptOutcome::recorded)));
}

TEST_CASE("processor client: the health answer is read, failing as a flag and not an error",
          "[unit][payments][processor_client]") {
  TempDir logs;
  ProcessorSim sim("0.05", logs.file("sim.log"), {"--health-window-ms", "1"});
  REQUIRE(sim.set_delay(40));
  REQUIRE(sim.set_failure(true));
  ProcessorClient client(sim.url(), 2000);
  payments::HealthAnswer answer;
  REQUIRE(client.service_health(&answer));
  CHECK(answer.failing);
  CHECK(answer.min_response_ms == 40);
}

TEST_CASE("processor client: the body sent carries the amount with two decimals",
          "[unit][payments][processor_client]") {
  const std::string id = id_of(7);
  CHECK(payments::payment_json(id, 2005, requested_at_ms) ==
        R"({"correlationId":")" + id +
            R"(","amount":20.05,"requestedAt":"2025-07-15T12:34:56.789Z"})");
  CHECK(payments::payment_json(id, 7, requested_at_ms).find(R"("amount":0.07,)") !=
        std::string::npos);
}

TEST_CASE("processor client: a processor URL is http://HOST[:PORT] and nothing more",
          "[unit][payments][processor_client]") {
  std::string error;
  CHECK(payments::valid_processor_url("http://127.0.0.1:8001", &error));
  CHECK(payments::valid_processor_url("http://payment-processor-default:8080", &error));
  for (const char* url : {"", "http://", "https://127.0.0.1:8001", "127.0.0.1:8001",
                          "http://127.0.0.1:8001/", "http://127.0.0.1:8001/payments"}) {
    INFO(url);
    error.clear();
    CHECK_FALSE(payments::valid_processor_url(url, &error));
    CHECK_FALSE(error.empty());
  }
}
