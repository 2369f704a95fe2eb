#include "http/payments/answers.h"

#include "clock.h"
#include "http/ledger/answers.h"
#include "payments/amount.h"

namespace http {
namespace {

void append_field(std::string* out, const char* key, int64_t value) {
  out->push_back('"');
  out->append(key);
  out->append("\":");
  out->append(std::to_string(value));
}

void append_totals(std::string* out, const payments::Totals& totals) {
  out->append("{\"totalRequests\":");
  out->append(std::to_string(totals.requests));
  out->append(",\"totalAmount\":");
  out->append(payments::format_amount_cents(totals.amount_cents));
  out->push_back('}');
}

}  // namespace

std::string summary_json(const payments::Summary& summary) {
  std::string out = "{\"default\":";
  append_totals(&out, summary.default_totals);
  out.append(",\"fallback\":");
  append_totals(&out, summary.fallback_totals);
  out.push_back('}');
  return out;
}

std::string consistency_json(const payments::Consistency& c) {
  std::string out = "{";
  append_field(&out, "accepted", c.accepted);
  out.push_back(',');
  append_field(&out, "inFlight", c.in_flight);
  out.append(",\"oldestUnsettledAcceptedAt\":");
  if (c.oldest_unsettled_accepted_ms > 0) {
    append_json_string(&out,
                       clocks::format_iso(c.oldest_unsettled_accepted_ms, clocks::Precision::ms));
  } else {
    out.append("null");
  }
  out.push_back(',');
  append_field(&out, "oldestUnsettledAgeMs", c.oldest_unsettled_age_ms);
  out.push_back(',');
  append_field(&out, "pinned", c.pinned);
  out.push_back(',');
  append_field(&out, "queued", c.queued);
  out.push_back(',');
  append_field(&out, "retried", c.retried);
  out.append(",\"settled\":{");
  append_field(&out, "default", c.settled_default);
  out.push_back(',');
  append_field(&out, "fallback", c.settled_fallback);
  out.append("},");
  append_field(&out, "unsettled", c.queued + c.in_flight);
  out.push_back('}');
  return out;
}

std::string purged_json() { return R"({"message":"All payments purged."})"; }

}  // namespace http
