// payments::ProcessorClient calls one payment processor (docs/CHALLENGES.md §2): POST /payments and
// GET /payments/service-health, over one keep-alive connection with TCP_NODELAY. Each answer is
// turned into an AttemptOutcome; nothing here decides what happens next (forwarding.h does).
//
// Not thread-safe: each worker owns its clients.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <memory>
#include <string>

#include "payments/forwarding.h"

namespace payments {

// "http://HOST:PORT" (no path). False and *error otherwise.
bool valid_processor_url(const std::string& url, std::string* error);

struct HealthAnswer {
  bool failing = false;
  int64_t min_response_ms = 0;
};

class ProcessorClient {
 public:
  // REQUIRES: valid_processor_url(url).
  ProcessorClient(const std::string& url, int timeout_ms);

  // Sends {"correlationId","amount","requestedAt"}. *elapsed_ms is the call's duration.
  AttemptOutcome post_payment(const std::string& correlation_id, int64_t amount_cents,
                              int64_t requested_at_ms, int64_t* elapsed_ms);

  // false when the processor did not answer 200 with the expected body (429 included).
  bool service_health(HealthAnswer* answer);

 private:
  std::unique_ptr<httplib::Client> client_;
};

// The request body, exactly as sent: amount with two decimals from integer cents (amount.h).
std::string payment_json(const std::string& correlation_id, int64_t amount_cents,
                         int64_t requested_at_ms);

}  // namespace payments
