// processor_sim::Processor is a stand-in for the Rinha de Backend 2025 payment processor
// (research/rinha2025.md §2), faithful where crebito's correctness depends on it:
//   - POST /payments waits the configured delay, then answers 500 without recording when failure
//     is on, else records (422 if the correlationId is already there). Neither the delay nor the
//     insert notices a client that gave up: its payment is still recorded.
//   - A concurrency cap (permits, then a FIFO queue, then 429 with Retry-After: 5).
//   - GET /payments/service-health: one call per window across all clients, two more held until
//     the next windows, then 429.
//   - Admin endpoints behind X-Rinha-Token (summary, purge, token, delay, failure) and a fee.
//   - For tests only (the real processor has no such endpoint): GET /admin/payments lists every
//     recorded payment, so a test can tell which correlationIds a processor holds. At most one
//     record per correlationId exists (a repeat is the 422 above).
// Payments live in memory. Thread-safe: every handler may run on any server thread.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace processor_sim {

struct Settings {
  double fee = 0.05;                // TRANSACTION_FEE
  std::string token = "123";        // INITIAL_TOKEN
  int64_t health_window_ms = 5000;  // RATE_LIMIT_SECONDS * 1000
  int health_queue_max = 2;
  int permits_max = 800;  // Concurrent POST /payments and GET /payments/{id}.
  int permit_queue_max = 500;
};

class Processor {
 public:
  explicit Processor(Settings settings);
  void install(httplib::Server* server);

 private:
  struct Record {
    int64_t amount_cents = 0;
    int64_t requested_at_ms = 0;
  };
  bool authorized(const httplib::Request& req, httplib::Response& res);
  bool enter();  // false: over the cap and the queue (429).
  void leave();
  bool health_turn();  // false: 429.

  void post_payment(const httplib::Request& req, httplib::Response& res);
  void get_payment(const httplib::Request& req, httplib::Response& res);
  void get_health(httplib::Response& res);
  void admin_summary(const httplib::Request& req, httplib::Response& res);
  void admin_payments(const httplib::Request& req, httplib::Response& res);
  void admin_purge(const httplib::Request& req, httplib::Response& res);
  void admin_token(const httplib::Request& req, httplib::Response& res);
  void admin_delay(const httplib::Request& req, httplib::Response& res);
  void admin_failure(const httplib::Request& req, httplib::Response& res);

  const Settings settings_;

  std::mutex mutex_;  // Guards everything below.
  std::condition_variable permit_freed_;
  std::string token_;
  int64_t delay_ms_ = 0;
  bool failure_ = false;
  int permits_used_ = 0;
  int permit_waiters_ = 0;
  int64_t health_next_ms_ = 0;  // When the next health permit is free.
  int health_waiters_ = 0;
  std::unordered_map<std::string, Record> payments_;
};

}  // namespace processor_sim
