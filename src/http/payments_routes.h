// The payments face's HTTP routes (specs/payments.md): POST /payments, GET /payments-summary,
// POST /purge-payments and the operators' GET /payments-consistency. Each handler parses, guards
// and returns on bad input, makes one call into payments::Payments, and replies.
//
// The handlers hold a pointer to the Payments, which must outlive the server. Thread-safe.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "payments/payments.h"

namespace http {

struct PaymentRequest {
  std::string correlation_id;
  int64_t amount_cents = 0;
};

// {"correlationId": "<UUID>", "amount": <number>}: a UUID string and a positive JSON number with
// at most two decimals (no exponent), read from its text, never through a float. Extra fields are
// ignored. nullopt for anything else (the caller answers 422).
std::optional<PaymentRequest> parse_payment_body(std::string_view body);

// {"default":{"totalRequests":N,"totalAmount":X},"fallback":{...}}
std::string summary_json(const payments::Summary& summary);

void install_payment_routes(httplib::Server* server, payments::Payments* payments);

// True for a request whose handler may block (GET /payments-summary waits up to
// limits::summary_settle_wait_ms_max for calls in flight): http::Server runs it on a side thread.
bool payment_request_may_block(std::string_view request_line);

}  // namespace http
