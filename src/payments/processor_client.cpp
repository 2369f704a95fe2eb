#include "payments/processor_client.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "clock.h"
#include "crebito_limits.h"
#include "payments/amount.h"

namespace payments {
namespace {

constexpr const char* json_type = "application/json";

}  // namespace

bool valid_processor_url(const std::string& url, std::string* error) {
  const std::string scheme = "http://";
  const bool ok = url.rfind(scheme, 0) == 0 && url.size() > scheme.size() &&
                  url.find('/', scheme.size()) == std::string::npos;
  if (!ok) *error = "'" + url + "' is not http://HOST[:PORT] (no path)";
  return ok;
}

std::string payment_json(const std::string& correlation_id, int64_t amount_cents,
                         int64_t requested_at_ms) {
  // correlation_id was validated as a UUID (hex and dashes): nothing to escape.
  return R"({"correlationId":")" + correlation_id + R"(","amount":)" +
         format_amount_cents(amount_cents) + R"(,"requestedAt":")" +
         clocks::format_iso(requested_at_ms, clocks::Precision::ms) + R"("})";
}

ProcessorClient::ProcessorClient(const std::string& url, int timeout_ms)
    : client_(std::make_unique<httplib::Client>(url)) {
  client_->set_tcp_nodelay(true);
  client_->set_keep_alive(true);
  client_->set_connection_timeout(std::chrono::milliseconds(limits::processor_connect_timeout_ms));
  client_->set_read_timeout(std::chrono::milliseconds(timeout_ms));
  client_->set_write_timeout(std::chrono::milliseconds(timeout_ms));
}

AttemptOutcome ProcessorClient::post_payment(const std::string& correlation_id,
                                             int64_t amount_cents, int64_t requested_at_ms,
                                             int64_t* elapsed_ms) {
  const int64_t start = clocks::steady_ms();
  const httplib::Result result = client_->Post(
      "/payments", payment_json(correlation_id, amount_cents, requested_at_ms), json_type);
  *elapsed_ms = clocks::steady_ms() - start;
  if (!result) {
    // Only a connection that was never made proves that nothing was sent. Anything later (a read
    // timeout, a reset, a write error on a reused connection) may have reached the processor.
    const httplib::Error error = result.error();
    if (error == httplib::Error::Connection || error == httplib::Error::ConnectionTimeout) {
      return AttemptOutcome::refused;
    }
    client_->stop();  // Do not reuse a connection in an unknown state.
    return AttemptOutcome::unknown;
  }
  switch (result->status) {
    case 200:
      return AttemptOutcome::recorded;
    case 422:
      return AttemptOutcome::duplicate;
    case 429:
      return AttemptOutcome::throttled;
    default:
      return AttemptOutcome::failed;
  }
}

bool ProcessorClient::service_health(HealthAnswer* answer) {
  const httplib::Result result = client_->Get("/payments/service-health");
  if (!result || result->status != 200) return false;
  const nlohmann::json body = nlohmann::json::parse(result->body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("failing") ||
      !body["failing"].is_boolean() || !body.contains("minResponseTime") ||
      !body["minResponseTime"].is_number_integer()) {
    return false;
  }
  answer->failing = body["failing"].get<bool>();
  answer->min_response_ms = body["minResponseTime"].get<int64_t>();
  return true;
}

}  // namespace payments
