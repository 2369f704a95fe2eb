// The payments face's HTTP routes (docs/PAYMENTS.md): POST /payments, GET /payments-summary,
// POST /purge-payments and the operators' GET /payments-consistency. Each handler reads like the
// ledger's (http/ledger/routes.h): parse (request_body.h), guard and return on bad input, one call
// into payments::Payments, map the outcome, reply (answers.h).
//
// The handlers hold a pointer to the Payments, which must outlive the server. Thread-safe.
#pragma once

#include <httplib.h>

#include <string_view>

#include "http/event_loop.h"
#include "payments/payments.h"

namespace http {

// The single place where a payments outcome becomes an HTTP status: 4xx when the client should
// fix its request, 503 when it may retry the same request later. (A route's success status is its
// own: 202 for an accepted payment, 200 otherwise.)
int status_for(payments::Outcome outcome);

// The event loop's turn hooks that commit each wake-up's accepts together (Payments' turns).
EventLoop::TurnHooks payment_turn_hooks(payments::Payments* payments);

void install_payment_routes(httplib::Server* server, payments::Payments* payments);

// True for a request whose handler may block (GET /payments-summary waits up to
// limits::summary_settle_wait_ms_max for calls in flight): http::Server runs it on a side thread.
bool payment_request_may_block(std::string_view request_line);

}  // namespace http
