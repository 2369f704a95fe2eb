#include "processor.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <thread>

#include "payments/timestamp.h"

namespace processor_sim {
namespace {

using nlohmann::json;
constexpr const char* json_type = "application/json";
// What .NET reads for a missing requestedAt: DateTime's default, 0001-01-01, outside any window.
constexpr int64_t missing_requested_at_ms = -62'135'596'800'000;

int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

void reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), json_type);
}

void too_many(httplib::Response& res) {
  res.status = 429;
  res.set_header("Retry-After", "5");
  res.set_content("Calm down, bitch. Try again later.", "text/plain");
}

std::string cents_text(int64_t cents) {
  const int64_t fraction = cents % 100;
  return std::to_string(cents / 100) + (fraction < 10 ? ".0" : ".") + std::to_string(fraction);
}

}  // namespace

Processor::Processor(Settings settings) : settings_(std::move(settings)), token_(settings_.token) {}

bool Processor::authorized(const httplib::Request& req, httplib::Response& res) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (req.get_header_value("X-Rinha-Token") == token_) return true;
  reply(res, 401, {{"message", "invalid token"}});
  return false;
}

bool Processor::enter() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (permits_used_ < settings_.permits_max) {
    ++permits_used_;
    return true;
  }
  if (permit_waiters_ >= settings_.permit_queue_max) return false;
  ++permit_waiters_;
  permit_freed_.wait(lock, [this] { return permits_used_ < settings_.permits_max; });
  --permit_waiters_;
  ++permits_used_;
  return true;
}

void Processor::leave() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    --permits_used_;
  }
  permit_freed_.notify_one();
}

// A fixed window of one permit; callers beyond it wait for the next free window, at most
// health_queue_max of them at a time.
bool Processor::health_turn() {
  int64_t turn_ms;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const int64_t now = steady_ms();
    if (health_next_ms_ <= now) {
      health_next_ms_ = now + settings_.health_window_ms;
      return true;
    }
    if (health_waiters_ >= settings_.health_queue_max) return false;
    ++health_waiters_;
    turn_ms = health_next_ms_;
    health_next_ms_ += settings_.health_window_ms;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(turn_ms - steady_ms()));
  std::lock_guard<std::mutex> lock(mutex_);
  --health_waiters_;
  return true;
}

void Processor::post_payment(const httplib::Request& req, httplib::Response& res) {
  if (!enter()) return too_many(res);
  const json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("correlationId") ||
      !body["correlationId"].is_string() || !body.contains("amount") ||
      !body["amount"].is_number()) {
    leave();
    return reply(res, 400, {{"message", "invalid body"}});
  }
  const std::string id = body["correlationId"].get<std::string>();
  // The simulator's own bookkeeping; .NET rounds the decimal amount to 2 places the same way.
  const int64_t cents = std::llround(body["amount"].get<double>() * 100.0);
  int64_t requested_at_ms = missing_requested_at_ms;
  if (body.contains("requestedAt")) {
    const auto parsed = body["requestedAt"].is_string()
                            ? payments::parse_timestamp_ms(body["requestedAt"].get<std::string>(),
                                                           payments::Bound::to)
                            : std::nullopt;
    if (!parsed) {
      leave();
      return reply(res, 400, {{"message", "invalid requestedAt"}});
    }
    requested_at_ms = *parsed;
  }
  int64_t delay_ms;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    delay_ms = delay_ms_;
  }
  if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  bool inserted = false;
  bool failing;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    failing = failure_;
    if (!failing) inserted = payments_.emplace(id, Record{cents, requested_at_ms}).second;
  }
  leave();
  if (failing) return reply(res, 500, {{"message", "simulated failure"}});
  if (!inserted) {
    return reply(res, 422,
                 {{"message",
                   "Payment could not be processed. CorrelationId already "
                   "exists: " +
                       id}});
  }
  reply(res, 200, {{"message", "payment processed successfully"}});
}

void Processor::get_payment(const httplib::Request& req, httplib::Response& res) {
  if (!enter()) return too_many(res);
  const std::string id = req.matches[1].str();
  std::unique_lock<std::mutex> lock(mutex_);
  const auto it = payments_.find(id);
  if (it == payments_.end()) {
    lock.unlock();
    leave();
    return reply(res, 404, {{"message", "not found"}});
  }
  const Record record = it->second;
  lock.unlock();
  leave();
  res.status = 200;
  res.set_content(R"({"correlationId":")" + id + R"(","amount":)" +
                      cents_text(record.amount_cents) + R"(,"requestedAt":")" +
                      payments::format_ms(std::max<int64_t>(0, record.requested_at_ms)) + R"("})",
                  json_type);
}

void Processor::get_health(httplib::Response& res) {
  if (!health_turn()) return too_many(res);
  std::lock_guard<std::mutex> lock(mutex_);
  reply(res, 200, {{"failing", failure_}, {"minResponseTime", delay_ms_}});
}

void Processor::admin_summary(const httplib::Request& req, httplib::Response& res) {
  if (!authorized(req, res)) return;
  // As the real one: both bounds or no filter at all (BETWEEN, inclusive).
  int64_t from_ms = std::numeric_limits<int64_t>::min();
  int64_t to_ms = std::numeric_limits<int64_t>::max();
  if (req.has_param("from") && req.has_param("to")) {
    const auto from =
        payments::parse_timestamp_ms(req.get_param_value("from"), payments::Bound::from);
    const auto to = payments::parse_timestamp_ms(req.get_param_value("to"), payments::Bound::to);
    if (!from || !to) return reply(res, 400, {{"message", "invalid from or to"}});
    from_ms = *from;
    to_ms = *to;
  }
  int64_t requests = 0;
  int64_t cents = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [id, record] : payments_) {
      if (record.requested_at_ms < from_ms || record.requested_at_ms > to_ms) continue;
      ++requests;
      cents += record.amount_cents;
    }
  }
  char fee_text[64];
  std::snprintf(fee_text, sizeof fee_text, "%.6f",
                static_cast<double>(cents) / 100.0 * settings_.fee);
  res.status = 200;
  res.set_content(R"({"totalAmount":)" + cents_text(cents) + R"(,"totalRequests":)" +
                      std::to_string(requests) + R"(,"totalFee":)" + fee_text +
                      R"(,"feePerTransaction":)" + json(settings_.fee).dump() + "}",
                  json_type);
}

// [{"correlationId","amount","requestedAt"}, ...] in no particular order; requestedAt as stored
// (a missing one shows as the epoch, as in GET /payments/{id}).
void Processor::admin_payments(const httplib::Request& req, httplib::Response& res) {
  if (!authorized(req, res)) return;
  std::string body = "[";
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [id, record] : payments_) {
      if (body.size() > 1) body += ',';
      // Any string was accepted as a correlationId: escape it.
      body += R"({"correlationId":)" + json(id).dump() + R"(,"amount":)" +
              cents_text(record.amount_cents) + R"(,"requestedAt":")" +
              payments::format_ms(std::max<int64_t>(0, record.requested_at_ms)) + R"("})";
    }
  }
  body += ']';
  res.status = 200;
  res.set_content(std::move(body), json_type);
}

void Processor::admin_purge(const httplib::Request& req, httplib::Response& res) {
  if (!authorized(req, res)) return;
  std::lock_guard<std::mutex> lock(mutex_);
  payments_.clear();
  reply(res, 200, {{"message", "All payments purged."}});
}

void Processor::admin_token(const httplib::Request& req, httplib::Response& res) {
  if (!authorized(req, res)) return;
  const json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.contains("token") || !body["token"].is_string()) {
    return reply(res, 400, {{"message", "expected {\"token\": \"...\"}"}});
  }
  std::lock_guard<std::mutex> lock(mutex_);
  token_ = body["token"].get<std::string>();
  res.status = 204;
}

void Processor::admin_delay(const httplib::Request& req, httplib::Response& res) {
  if (!authorized(req, res)) return;
  const json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.contains("delay") || !body["delay"].is_number_integer() ||
      body["delay"].get<int64_t>() < 0) {
    return reply(res, 400, {{"message", "expected {\"delay\": <ms>}"}});
  }
  std::lock_guard<std::mutex> lock(mutex_);
  const int64_t was = delay_ms_;
  delay_ms_ = body["delay"].get<int64_t>();
  reply(res, 200, {{"config", "delay"}, {"was", was}, {"is", delay_ms_}});
}

void Processor::admin_failure(const httplib::Request& req, httplib::Response& res) {
  if (!authorized(req, res)) return;
  const json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.contains("failure") || !body["failure"].is_boolean()) {
    return reply(res, 400, {{"message", "expected {\"failure\": true|false}"}});
  }
  std::lock_guard<std::mutex> lock(mutex_);
  const bool was = failure_;
  failure_ = body["failure"].get<bool>();
  reply(res, 200, {{"config", "failure"}, {"was", was}, {"is", failure_}});
}

void Processor::install(httplib::Server* server) {
  using R = const httplib::Request&;
  using W = httplib::Response&;
  server->Post("/payments", [this](R req, W res) { post_payment(req, res); });
  server->Get("/payments/service-health", [this](R, W res) { get_health(res); });
  server->Get(R"(/payments/([0-9a-fA-F-]{1,64}))", [this](R req, W res) { get_payment(req, res); });
  server->Get("/admin/payments-summary", [this](R req, W res) { admin_summary(req, res); });
  server->Get("/admin/payments", [this](R req, W res) { admin_payments(req, res); });
  server->Post("/admin/purge-payments", [this](R req, W res) { admin_purge(req, res); });
  server->Put("/admin/configurations/token", [this](R req, W res) { admin_token(req, res); });
  server->Put("/admin/configurations/delay", [this](R req, W res) { admin_delay(req, res); });
  server->Put("/admin/configurations/failure", [this](R req, W res) { admin_failure(req, res); });
}

}  // namespace processor_sim
