#include "payments/forwarder.h"

#include "check.h"
#include "clock.h"
#include "crebito_limits.h"

namespace payments {

Forwarder::Forwarder(ForwarderConfig config) : config_(std::move(config)), views_(config_.workers) {
  CREBITO_ASSERT(config_.store != nullptr);
  CREBITO_ASSERT(config_.workers >= limits::payment_workers_min);
  CREBITO_ASSERT(config_.timeout_ms >= limits::processor_timeout_ms_min);
}

Forwarder::~Forwarder() { stop(); }

int64_t Forwarder::lease_ms(int timeout_ms) {
  return int64_t{timeout_ms} + limits::processor_connect_timeout_ms +
         limits::payment_lease_margin_ms;
}

void Forwarder::start() {
  CREBITO_ASSERT(!dispatcher_);
  dispatcher_ =
      std::make_unique<Dispatcher>(config_.store, lease_ms(config_.timeout_ms), &jobs_, &views_);
  Dispatcher* dispatcher = dispatcher_.get();
  workers_ = std::make_unique<WorkerPool>(
      WorkerPoolConfig{config_.default_url, config_.fallback_url, config_.workers,
                       config_.timeout_ms},
      &jobs_, &views_,
      [dispatcher](store::PaymentsSession::AttemptEnd end) { dispatcher->ended(std::move(end)); });
  health_poller_ = std::make_unique<HealthPoller>(config_.store, config_.default_url,
                                                  config_.fallback_url, health_owner());
  workers_->start();
  dispatcher_->start();
  health_poller_->start();
}

void Forwarder::stop() {
  if (health_poller_) health_poller_->request_stop();
  if (workers_) workers_->stop();
  if (dispatcher_) dispatcher_->stop();
  if (health_poller_) health_poller_->stop();
}

void Forwarder::wake() {
  CREBITO_ASSERT(dispatcher_ && health_poller_);  // start() returned true.
  health_poller_->note_activity(clocks::wall_ms());
  dispatcher_->wake();
}

}  // namespace payments
