// processor_sim::Processor is a stand-in for the Rinha de Backend 2025 payment processor
// (docs/CHALLENGES.md §2; docs/PAYMENTS.md lists point by point what it reproduces and what
// not), faithful where crebito's correctness depends on it:
//   - POST /payments waits the configured delay, then answers 500 without recording when failure
//     is on, else records (422 if the correlationId is already there). Neither the delay nor the
//     insert notices a client that gave up: its payment is still recorded.
//   - A concurrency cap (permits, then a FIFO queue, then 429 with Retry-After).
//   - GET /payments/service-health: one call per window across all clients, two more held until
//     the next windows, then 429.
//   - Admin endpoints behind X-Rinha-Token (summary, purge, token, delay, failure) and a fee; the
//     summary's amounts are exact decimals, as the real one's Postgres sums are.
//   - For tests only (the real processor has no such endpoint): GET /admin/payments lists every
//     recorded payment, so a test can tell which correlationIds a processor holds. At most one
//     record per correlationId exists (a repeat is the 422 above).
// Payments live in memory. Waiting (a delay, a permit, a health window) is a Timers entry, never a
// blocked thread. Not thread-safe: everything runs on the server's loop thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "event_server.h"
#include "http_message.h"

namespace processor_sim {

// A non-negative decimal held exactly: units × 10^-scale ("0.07" is {7, 2}).
struct Decimal {
  int64_t units = 0;
  int scale = 0;
};
constexpr int fee_scale_max = 6;
// "0.07" and the like: digits, at most one '.', at most fee_scale_max decimals, below 1.
std::optional<Decimal> parse_fee(std::string_view text);

struct Settings {
  Decimal fee{5, 2};                // TRANSACTION_FEE
  std::string token = "123";        // INITIAL_TOKEN
  int64_t health_window_ms = 5000;  // RATE_LIMIT_SECONDS * 1000
  int health_queue_max = 2;
  int permits_max = 800;  // Concurrent POST /payments and GET /payments/{id}.
  int permit_queue_max = 500;
};

class Processor {
 public:
  Processor(Settings settings, Timers& timers);
  // Answers `request` through `reply`, at once or later (a delay, a queue); exactly once.
  void handle(const Request& request, Reply reply);

 private:
  struct Record {
    int64_t amount_cents = 0;
    int64_t requested_at_ms = 0;
    int amount_scale = 0;  // Decimals the amount was sent with, at most 2 (decimal.Round).
  };
  bool authorized(const Request& request) const;
  // Runs `start` now or, when every permit is taken, once one is released (FIFO); false when the
  // queue is full too (429). `start` must call release_permit() when its request is answered.
  bool acquire_permit(std::function<void()> start);
  void release_permit();
  Response too_many() const;
  Response health_answer() const;

  void post_payment(const Request& request, Reply reply);
  void record_payment(const std::string& body, Reply reply);
  void get_payment(const std::string& id, Reply reply);
  void get_health(Reply reply);
  Response admin_summary(const Request& request) const;
  Response admin_payments(const Request& request) const;
  Response admin_purge(const Request& request);
  Response admin_token(const Request& request);
  Response admin_delay(const Request& request);
  Response admin_failure(const Request& request);

  const Settings settings_;
  Timers& timers_;
  std::string token_;
  int64_t delay_ms_ = 0;  // An Int32 as the real one's; <= 0 means no delay.
  bool failure_ = false;
  int permits_used_ = 0;
  std::deque<std::function<void()>> permit_queue_;
  int64_t health_next_ms_ = 0;  // When the next health permit is free.
  int health_waiters_ = 0;
  std::unordered_map<std::string, Record> payments_;
};

}  // namespace processor_sim
