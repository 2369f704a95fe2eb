#include "http/payments/routes.h"

#include "http/ledger/answers.h"
#include "http/payments/answers.h"
#include "http/payments/request_body.h"
#include "http/reply.h"
#include "metrics/registry.h"

namespace http {
namespace {

constexpr const char* unavailable_message = "database unavailable, try again";

void reply_error(httplib::Response& res, payments::Outcome outcome, std::string_view message) {
  if (outcome == payments::Outcome::unavailable) metrics::count(metrics::StoreEvent::answered_503);
  reply_json_error(res, status_for(outcome), message);
}

// The first query parameter of that name (as Request::get_param_value), or nullopt when none.
std::optional<std::string_view> param(const httplib::Request& req, const char* name) {
  const auto [first, end] = req.params.equal_range(name);
  if (first == end) return std::nullopt;
  return std::string_view(first->second);
}

void post_payment(payments::Payments& payments, const httplib::Request& req,
                  httplib::Response& res) {
  const std::optional<PaymentRequest> request = parse_payment_body(req.body);
  if (!request) {
    return reply_error(res, payments::Outcome::invalid_payment,
                       "invalid payment: correlationId must be a UUID and amount a positive "
                       "number with at most 2 decimals");
  }
  const payments::Outcome outcome = payments.accept(request->correlation_id, request->amount_cents);
  if (outcome != payments::Outcome::ok) return reply_error(res, outcome, unavailable_message);
  res.status = 202;
}

void get_summary(payments::Payments& payments, const httplib::Request& req,
                 httplib::Response& res) {
  const std::optional<SummaryRange> range =
      parse_summary_range(param(req, "from"), param(req, "to"));
  if (!range) {
    return reply_error(res, payments::Outcome::invalid_range,
                       "from and to must be ISO-8601 UTC, e.g. 2025-07-15T12:34:56.000Z");
  }
  payments::Summary summary;
  const payments::Outcome outcome = payments.summary(range->from_ms, range->to_ms, &summary);
  if (outcome != payments::Outcome::ok) return reply_error(res, outcome, unavailable_message);
  reply_json(res, 200, summary_json(summary));
}

void post_purge(payments::Payments& payments, httplib::Response& res) {
  const payments::Outcome outcome = payments.purge();
  if (outcome != payments::Outcome::ok) return reply_error(res, outcome, unavailable_message);
  reply_json(res, 200, purged_json());
}

void get_consistency(payments::Payments& payments, httplib::Response& res) {
  payments::Consistency consistency;
  const payments::Outcome outcome = payments.consistency(&consistency);
  if (outcome != payments::Outcome::ok) return reply_error(res, outcome, unavailable_message);
  reply_json(res, 200, consistency_json(consistency));
}

}  // namespace

int status_for(payments::Outcome outcome) {
  switch (outcome) {
    case payments::Outcome::ok:
      return 200;
    case payments::Outcome::invalid_payment:
      return 422;
    case payments::Outcome::invalid_range:
      return 400;
    case payments::Outcome::unavailable:
      return 503;
  }
  return 500;  // Unreachable: -Wswitch flags any outcome left out above.
}

EventLoop::TurnHooks payment_turn_hooks(payments::Payments* payments) {
  return {[payments] { payments->begin_turn(); }, [payments] { return payments->end_turn(); },
          [payments] { return payments->answered_from_turn(); }};
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
