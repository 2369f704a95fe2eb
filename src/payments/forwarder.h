// payments::Forwarder forwards the payments accepted by either instance to the processors, each
// exactly once (forwarding.h has the rules). It wires an instance's parts together; each part
// states its own contract:
//   - Dispatcher (dispatcher.h): the one thread that writes the queue; leases due payments.
//   - JobQueue (job_queue.h): hands leased payments from the dispatcher to idle workers.
//   - WorkerPool (worker_pool.h): the workers, one call to a processor per leased payment.
//   - ProcessorViews (processor_views.h): what calls and the stored health say of each processor.
//   - HealthPoller (health_poller.h): the processors' health, polled by one instance at a time.
// Workers of both instances share the queue; a lease keeps a payment with one worker at a time.
//
// Thread-safe. start() once; stop() (or the destructor) ends every thread after its current call:
// the workers first (each finishes the payments already handed to it), then the dispatcher (it
// writes their outcomes), then the health poller.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "payments/dispatcher.h"
#include "payments/health_poller.h"
#include "payments/job_queue.h"
#include "payments/processor_views.h"
#include "payments/worker_pool.h"
#include "store/payments_store.h"

namespace payments {

struct ForwarderConfig {
  // The payments store (shared with payments::Payments; it must outlive the forwarder). The
  // dispatcher and the health poller each borrow one session at a time from it.
  store::PaymentsStore* store = nullptr;
  std::string default_url;
  std::string fallback_url;
  int workers = 0;
  int timeout_ms = 0;
};

class Forwarder {
 public:
  explicit Forwarder(ForwarderConfig config);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // How many sessions of the store the forwarder may hold at once: the dispatcher's and the health
  // poller's (the workers write nothing themselves).
  static constexpr int sessions_borrowed = 2;

  // Starts every thread.
  void start();
  void stop();

  // A payment was queued by this instance: start a dispatcher round.
  void wake();

  // What this instance knows of a processor now (processor_views.h), e.g. for GET /metrics.
  ProcessorView processor_view(Processor processor, int64_t now_ms) const {
    return views_.view(processor, now_ms);
  }

  // How long a claimed payment stays leased: the longest call it covers plus a margin, so a live
  // worker never loses its lease.
  static int64_t lease_ms(int timeout_ms);

 private:
  const ForwarderConfig config_;
  ProcessorViews views_;
  JobQueue jobs_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<HealthPoller> health_poller_;
};

}  // namespace payments
