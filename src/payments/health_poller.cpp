#include "payments/health_poller.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <random>

#include "check.h"
#include "clock.h"
#include "crebito_limits.h"
#include "payments/processor_client.h"

namespace payments {
namespace {

constexpr const char* health_lease = "health";
// Between passes. A pass only calls a processor whose answer is older than the poll interval.
constexpr int64_t tick_ms = limits::health_poll_tick_ms;

}  // namespace

std::string health_owner() {
  std::random_device seed;
  return std::to_string(::getpid()) + "-" + std::to_string(seed());
}

HealthPoller::HealthPoller(store::PaymentsStore* store, const std::string& default_url,
                           const std::string& fallback_url, std::string owner)
    : store_(store),
      clients_{ProcessorClient(default_url, limits::health_timeout_ms),
               ProcessorClient(fallback_url, limits::health_timeout_ms)},
      owner_(std::move(owner)) {
  CREBITO_ASSERT(store_ != nullptr);
  CREBITO_ASSERT(!owner_.empty());
}

HealthPoller::~HealthPoller() { stop(); }

void HealthPoller::start() {
  thread_.start([this] { run(); });
}

void HealthPoller::request_stop() { thread_.request_stop(); }

void HealthPoller::stop() { thread_.stop(); }

void HealthPoller::run() {
  std::unique_lock<std::mutex> lock(thread_.mutex);
  while (!thread_.wake.wait_for(lock, std::chrono::milliseconds(tick_ms),
                                [this] { return thread_.stopping; })) {
    lock.unlock();
    (void)poll();
    lock.lock();
  }
}

int HealthPoller::poll() {
  const int64_t now = clocks::wall_ms();
  if (now - last_activity_ms_.load() > limits::health_active_window_ms) return 0;
  std::array<store::HealthRow, processor_count> rows;
  {
    store::PaymentsStore::Lease session = store_->acquire();
    if (session->take_lease(health_lease, owner_, now, now + limits::health_lease_ms) !=
        store::Status::ok) {
      return 0;
    }
    if (session->read_health(&rows) != store::Status::ok) return 0;
  }
  int called = 0;
  for (size_t p = 0; p < rows.size(); ++p) {
    {
      std::lock_guard<std::mutex> lock(thread_.mutex);
      if (thread_.stopping) break;
    }
    if (clocks::wall_ms() - rows[p].checked_ms < limits::health_poll_interval_ms) continue;
    HealthAnswer answer;
    store::HealthRow row = rows[p];
    if (clients_[p].service_health(&answer)) {
      row.failing = answer.failing;
      row.min_response_ms = answer.min_response_ms;
    }
    row.checked_ms = clocks::wall_ms();
    ++called;
    (void)store_->acquire()->write_health(static_cast<Processor>(p), row);
  }
  return called;
}

}  // namespace payments
