// The payments face's JSON answers (src/http/payments/answers.h): exact shapes, amounts with two
// decimals, and the consistency report byte for byte as it has always been written.
#include "http/payments/answers.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "clock.h"

TEST_CASE("summary answer: requests and amounts per processor", "[unit][payments][answers]") {
  payments::Summary summary;
  summary.default_totals = {3, 6015};
  summary.fallback_totals = {1, 7};
  CHECK(http::summary_json(summary) == R"({"default":{"totalRequests":3,"totalAmount":60.15},)"
                                       R"("fallback":{"totalRequests":1,"totalAmount":0.07}})");
  CHECK(http::summary_json({}) == R"({"default":{"totalRequests":0,"totalAmount":0.00},)"
                                  R"("fallback":{"totalRequests":0,"totalAmount":0.00}})");
}

TEST_CASE("consistency answer: the same bytes as the JSON library writes for it",
          "[unit][payments][answers]") {
  payments::Consistency c;
  c.accepted = 10;
  c.queued = 2;
  c.in_flight = 1;
  c.pinned = 1;
  c.retried = 4;
  c.settled_default = 5;
  c.settled_fallback = 2;
  c.oldest_unsettled_accepted_ms = 1'752'582'896'789;
  c.oldest_unsettled_age_ms = 1500;
  // The answer as it was built before (an nlohmann object, keys in its sorted order).
  nlohmann::json expected = {
      {"accepted", 10},
      {"queued", 2},
      {"inFlight", 1},
      {"pinned", 1},
      {"retried", 4},
      {"settled", {{"default", 5}, {"fallback", 2}}},
      {"unsettled", 3},
      {"oldestUnsettledAcceptedAt", "2025-07-15T12:34:56.789Z"},
      {"oldestUnsettledAgeMs", 1500},
  };
  CHECK(http::consistency_json(c) == expected.dump());

  payments::Consistency empty;
  expected = {
      {"accepted", 0},
      {"queued", 0},
      {"inFlight", 0},
      {"pinned", 0},
      {"retried", 0},
      {"settled", {{"default", 0}, {"fallback", 0}}},
      {"unsettled", 0},
      {"oldestUnsettledAcceptedAt", nullptr},
      {"oldestUnsettledAgeMs", 0},
  };
  CHECK(http::consistency_json(empty) == expected.dump());
}

TEST_CASE("purge answer", "[unit][payments][answers]") {
  CHECK(http::purged_json() == R"({"message":"All payments purged."})");
}
