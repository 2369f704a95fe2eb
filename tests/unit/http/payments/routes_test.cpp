// The payments face's one mapping from outcomes to HTTP statuses (src/http/payments/routes.h),
// and which requests may block their thread.
#include "http/payments/routes.h"

#include <catch2/catch.hpp>

TEST_CASE("payments outcomes map to statuses: 4xx to fix the request, 503 to retry it",
          "[unit][payments][routes]") {
  CHECK(http::status_for(payments::Outcome::ok) == 200);
  CHECK(http::status_for(payments::Outcome::invalid_payment) == 422);
  CHECK(http::status_for(payments::Outcome::invalid_range) == 400);
  CHECK(http::status_for(payments::Outcome::unavailable) == 503);
}

TEST_CASE("only the summary may block its thread", "[unit][payments][routes]") {
  CHECK(http::payment_request_may_block("GET /payments-summary?from=a&to=b HTTP/1.1"));
  CHECK(http::payment_request_may_block("GET /payments-summary HTTP/1.1"));
  CHECK_FALSE(http::payment_request_may_block("POST /payments HTTP/1.1"));
  CHECK_FALSE(http::payment_request_may_block("GET /payments-consistency HTTP/1.1"));
  CHECK_FALSE(http::payment_request_may_block("POST /purge-payments HTTP/1.1"));
}
