#include "http/payments/answers.h"

#include "clock.h"
#include "http/json_object.h"
#include "payments/amount.h"

namespace http {
namespace {

void append_totals(JsonObject* object, std::string_view key, const payments::Totals& totals) {
  object->object(key)
      .number("totalRequests", totals.requests)
      .raw("totalAmount", payments::format_amount_cents(totals.amount_cents))
      .end();
}

}  // namespace

std::string summary_json(const payments::Summary& summary) {
  std::string out;
  JsonObject answer(&out);
  append_totals(&answer, "default", summary.default_totals);
  append_totals(&answer, "fallback", summary.fallback_totals);
  answer.end();
  return out;
}

std::string consistency_json(const payments::Consistency& c) {
  std::string out;
  JsonObject answer(&out);
  answer.number("accepted", c.accepted).number("inFlight", c.in_flight);
  if (c.oldest_unsettled_accepted_ms > 0) {
    answer.string("oldestUnsettledAcceptedAt",
                  clocks::format_iso(c.oldest_unsettled_accepted_ms, clocks::Precision::ms));
  } else {
    answer.raw("oldestUnsettledAcceptedAt", "null");
  }
  answer.number("oldestUnsettledAgeMs", c.oldest_unsettled_age_ms)
      .number("pinned", c.pinned)
      .number("queued", c.queued)
      .number("retried", c.retried)
      .object("settled")
      .number("default", c.settled_default)
      .number("fallback", c.settled_fallback)
      .end()
      .number("unsettled", c.queued + c.in_flight)
      .end();
  return out;
}

std::string purged_json() { return R"({"message":"All payments purged."})"; }

}  // namespace http
