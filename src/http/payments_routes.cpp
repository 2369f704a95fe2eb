#include "http/payments_routes.h"

#include <limits>
#include <nlohmann/json.hpp>

#include "crebito_limits.h"
#include "http/answers.h"
#include "payments/amount.h"
#include "payments/timestamp.h"

namespace http {
namespace {

constexpr const char* json_type = "application/json";

// Reads the body with nlohmann's SAX interface: numbers arrive with their text, so the amount is
// converted to cents exactly. Only the two top-level fields are kept.
class PaymentBodyReader : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::optional<std::string> correlation_id;
  std::optional<int64_t> amount_cents;
  bool bad_amount = false;

  bool null() override { return scalar(); }
  bool boolean(bool) override { return scalar(); }
  bool number_integer(number_integer_t) override { return scalar(); }
  bool number_unsigned(number_unsigned_t value) override { return number(std::to_string(value)); }
  bool number_float(number_float_t, const string_t& text) override { return number(text); }
  bool string(string_t& value) override {
    if (depth_ == 1 && key_ == "correlationId") correlation_id = value;
    return scalar();
  }
  bool binary(binary_t&) override { return scalar(); }
  bool start_object(std::size_t) override { return open(); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(); }
  bool end_array() override { return close(); }
  bool key(string_t& value) override {
    key_ = value;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }
  bool top_level_object() const { return saw_object_at_top_; }

 private:
  // A negative integer arrives through number_integer: it is never a valid amount.
  bool scalar() {
    if (depth_ == 1 && key_ == "amount") bad_amount = true;
    if (depth_ == 1 && key_ == "correlationId" && !correlation_id) correlation_id = "";
    key_.clear();
    return true;
  }
  bool number(const std::string& text) {
    if (depth_ == 1 && key_ == "amount") {
      amount_cents = payments::parse_amount_cents(text);
      if (!amount_cents) bad_amount = true;
      key_.clear();
      return true;
    }
    return scalar();
  }
  bool open() {
    if (depth_ == 0) saw_object_at_top_ = true;
    if (depth_ == 1 && (key_ == "amount" || key_ == "correlationId")) bad_amount = true;
    key_.clear();
    ++depth_;
    return depth_ <= max_depth_;
  }
  bool close() {
    --depth_;
    return true;
  }

  static constexpr int max_depth_ = 8;  // Deeper bodies are not payments; stop reading.
  int depth_ = 0;
  bool saw_object_at_top_ = false;
  std::string key_;
};

void reply(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.set_content(std::move(body), json_type);
}

void reply_unavailable(httplib::Response& res) {
  reply(res, 503, error_json("database unavailable, try again"));
}

void post_payment(payments::Payments& payments, const httplib::Request& req,
                  httplib::Response& res) {
  const std::optional<PaymentRequest> request = parse_payment_body(req.body);
  if (!request) {
    return reply(res, 422,
                 error_json("invalid payment: correlationId must be a UUID and amount a positive "
                            "number with at most 2 decimals"));
  }
  if (payments.accept(request->correlation_id, request->amount_cents) != payments::Outcome::ok) {
    return reply_unavailable(res);
  }
  res.status = 202;
}

// A missing bound is unbounded; an unparsable one is refused.
bool read_bound(const httplib::Request& req, const char* name, payments::Bound bound,
                int64_t* value) {
  if (!req.has_param(name)) return true;
  const std::optional<int64_t> parsed =
      payments::parse_timestamp_ms(req.get_param_value(name), bound);
  if (!parsed) return false;
  *value = *parsed;
  return true;
}

void get_summary(payments::Payments& payments, const httplib::Request& req,
                 httplib::Response& res) {
  int64_t from_ms = 0;
  int64_t to_ms = std::numeric_limits<int64_t>::max();
  if (!read_bound(req, "from", payments::Bound::from, &from_ms) ||
      !read_bound(req, "to", payments::Bound::to, &to_ms)) {
    return reply(res, 400,
                 error_json("from and to must be ISO-8601 UTC, e.g. 2025-07-15T12:34:56.000Z"));
  }
  payments::Summary summary;
  if (payments.summary(from_ms, to_ms, &summary) != payments::Outcome::ok) {
    return reply_unavailable(res);
  }
  reply(res, 200, summary_json(summary));
}

void post_purge(payments::Payments& payments, httplib::Response& res) {
  if (payments.purge() != payments::Outcome::ok) return reply_unavailable(res);
  reply(res, 200, R"({"message":"All payments purged."})");
}

void get_consistency(payments::Payments& payments, httplib::Response& res) {
  payments::Consistency consistency;
  if (payments.consistency(&consistency) != payments::Outcome::ok) return reply_unavailable(res);
  const store::QueueCounts& c = consistency.counts;
  nlohmann::json body = {
      {"accepted", c.accepted},
      {"queued", c.queued},
      {"inFlight", c.in_flight},
      {"pinned", c.pinned},
      {"retried", c.retried},
      {"settled", {{"default", c.settled[0]}, {"fallback", c.settled[1]}}},
      {"unsettled", c.queued + c.in_flight},
      {"oldestUnsettledAcceptedAt",
       c.oldest_unsettled_accepted_ms > 0
           ? nlohmann::json(payments::format_ms(c.oldest_unsettled_accepted_ms))
           : nlohmann::json(nullptr)},
      {"oldestUnsettledAgeMs", consistency.oldest_unsettled_age_ms},
  };
  reply(res, 200, body.dump());
}

}  // namespace

std::optional<PaymentRequest> parse_payment_body(std::string_view body) {
  PaymentBodyReader reader;
  const bool parsed = nlohmann::json::sax_parse(body, &reader);
  if (!parsed || !reader.top_level_object() || reader.bad_amount || !reader.amount_cents ||
      !reader.correlation_id || !payments::valid_correlation_id(*reader.correlation_id)) {
    return std::nullopt;
  }
  return PaymentRequest{*reader.correlation_id, *reader.amount_cents};
}

std::string summary_json(const payments::Summary& summary) {
  auto totals = [](const payments::Totals& t) {
    return R"({"totalRequests":)" + std::to_string(t.requests) + R"(,"totalAmount":)" +
           payments::format_amount_cents(t.amount_cents) + "}";
  };
  return R"({"default":)" + totals(summary.default_totals) + R"(,"fallback":)" +
         totals(summary.fallback_totals) + "}";
}

void install_payment_routes(httplib::Server* server, payments::Payments* payments) {
  server->Post("/payments", [payments](const httplib::Request& req, httplib::Response& res) {
    post_payment(*payments, req, res);
  });
  server->Get("/payments-summary", [payments](const httplib::Request& req, httplib::Response& res) {
    get_summary(*payments, req, res);
  });
  server->Post("/purge-payments", [payments](const httplib::Request&, httplib::Response& res) {
    post_purge(*payments, res);
  });
  server->Get("/payments-consistency", [payments](const httplib::Request&, httplib::Response& res) {
    get_consistency(*payments, res);
  });
}

bool payment_request_may_block(std::string_view request_line) {
  return request_line.starts_with("GET /payments-summary");
}

}  // namespace http
