// POST /payments bodies (src/http/payments_routes.h): the amount read from its JSON text into
// integer cents (src/payments/amount.h), and every invalid body refused.
#include <catch2/catch.hpp>

#include "http/payments_routes.h"

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
