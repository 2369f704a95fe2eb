// The payments face's request bodies and bounds (src/http/payments/request_body.h): a body's
// correlationId and amount read exactly, every invalid body refused, and the summary's bounds.
#include "http/payments/request_body.h"

#include <catch2/catch.hpp>

#include "clock.h"

namespace {
const std::string id = "4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b1";
std::string body(const std::string& amount) {
  return R"({"correlationId":")" + id + R"(","amount":)" + amount + "}";
}
}  // namespace

TEST_CASE("a valid body gives the correlationId and the cents", "[unit][payments][body]") {
  const auto request = http::parse_payment_body(body("20.05"));
  REQUIRE(request);
  CHECK(request->correlation_id == id);
  CHECK(request->amount_cents == 2005);
  CHECK(http::parse_payment_body(body("100"))->amount_cents == 10000);
  CHECK(http::parse_payment_body(R"({"amount":1.5,"extra":[1,{"a":2}],"correlationId":")" + id +
                                 R"("})")
            ->amount_cents == 150);
}

TEST_CASE("invalid bodies are refused", "[unit][payments][body]") {
  for (const std::string& text :
       {std::string(""), std::string("{}"), std::string("[]"), std::string("null"), body("1.234"),
        body("\"20.05\""), body("-20.05"), body("0"), body("true"), body("{}"), body("1e1"),
        std::string(R"({"correlationId":"not-a-uuid","amount":1})"),
        std::string(R"({"correlationId":42,"amount":1})"), std::string(R"({"amount":1})"),
        body("20.05").substr(0, 30)}) {
    INFO(text);
    CHECK_FALSE(http::parse_payment_body(text));
  }
}

TEST_CASE("summary bounds: missing ends are open, present ones must be ISO-8601 UTC",
          "[unit][payments][body]") {
  const auto open = http::parse_summary_range(std::nullopt, std::nullopt);
  REQUIRE(open);
  CHECK(open->from_ms == 0);
  CHECK(open->to_ms == std::numeric_limits<int64_t>::max());

  const auto both =
      http::parse_summary_range("2025-07-15T12:34:56.000Z", "2025-07-15T12:35:56.999Z");
  REQUIRE(both);
  CHECK(both->from_ms == 1'752'582'896'000);
  CHECK(both->to_ms == 1'752'582'956'999);

  const auto from_only = http::parse_summary_range("2025-07-15T12:34:56Z", std::nullopt);
  REQUIRE(from_only);
  CHECK(from_only->from_ms == 1'752'582'896'000);
  CHECK(from_only->to_ms == std::numeric_limits<int64_t>::max());

  CHECK_FALSE(http::parse_summary_range("yesterday", std::nullopt));
  CHECK_FALSE(http::parse_summary_range(std::nullopt, ""));
  CHECK_FALSE(http::parse_summary_range("2025-07-15T12:34:56.000Z", "2025-07-15 12:35:56"));
}
