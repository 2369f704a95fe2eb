// payments::HealthPoller keeps the processors' health in the store (table processor_health) for
// every worker of both instances: GET /payments/service-health on each processor, at most once per
// limits::health_poll_interval_ms per processor across both instances, which the processors'
// rate limit (one call per 5 s) requires. At most one instance at a time polls: the one holding
// the "health" lease (store::PaymentsSession::take_lease). It polls only while its instance has
// seen payments within limits::health_active_window_ms (note_activity()). No request path calls a
// processor's health endpoint.
//
// An answer other than 200 with the expected body (a 429, a timeout) is "unknown", not "failing":
// the previous answer stays, with the time of this try, so the budget of calls is kept.
//
// Thread-safety: note_activity() from any thread. poll() from one thread at a time: the poller's
// own after start(), or a caller that never starts it. start() once; stop() (or the destructor)
// returns after the call in progress, if any.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "payments/forwarding.h"
#include "payments/owned_thread.h"
#include "payments/processor_client.h"
#include "store/payments_store.h"

namespace payments {

class HealthPoller {
 public:
  // owner: this instance's name in the lease (health_owner() gives a unique one).
  // The URLs: valid_processor_url() (processor_client.h). A pass borrows a session from store
  // (which must outlive the poller) for its reads and for each write, never across a call to a
  // processor.
  HealthPoller(store::PaymentsStore* store, const std::string& default_url,
               const std::string& fallback_url, std::string owner);
  ~HealthPoller();
  HealthPoller(const HealthPoller&) = delete;
  HealthPoller& operator=(const HealthPoller&) = delete;

  // Polls every limits::payment_idle_poll_ms * 8 until stop().
  void start();
  // request_stop() wakes the thread and returns; stop() also waits for it to end.
  void request_stop();
  void stop();

  // A payment was accepted by this instance at now_ms.
  void note_activity(int64_t now_ms) { last_activity_ms_.store(now_ms); }

  // One pass: when active and holding the lease, calls each processor whose stored answer is
  // older than the poll interval and stores the answer. Returns how many processors it called.
  int poll();

 private:
  void run();

  store::PaymentsStore* const store_;
  // Used by the thread that polls only; kept alive between passes.
  std::array<ProcessorClient, processor_count> clients_;
  const std::string owner_;
  std::atomic<int64_t> last_activity_ms_{0};
  OwnedThread thread_;  // Waits between passes; woken only to stop.
};

// "<pid>-<random>": unique per process, for the health lease.
std::string health_owner();

}  // namespace payments
