// payments::Forwarder runs this instance's forwarding workers, its dispatcher and its health
// poller.
//
// The dispatcher is the only thread of the instance that writes the queue: in one transaction it
// writes how the calls that ended since its last round went (what forwarding.h's next_after()
// decides) and claims the most overdue payments (store leases) for the workers that are idle.
// A round starts when a payment is accepted here, when a call ends, or on the idle poll (for
// retries that came due and expired leases), and first lets limits::payment_dispatch_window_ms
// pass so that one take of the write lock serves many payments: every take is a wait for the
// accepts that queue behind it. Each worker makes one call to a processor per payment handed to
// it. Workers of both instances share the queue; the lease keeps one payment with one worker at
// a time, and a payment whose worker died, or whose outcome died unwritten with its instance, is
// taken again when its lease expires (as an unknown outcome).
//
// The health poller: at most one instance at a time holds the "health" lease in SQLite and calls
// GET /payments/service-health on each processor at most once per limits::health_poll_interval_ms;
// the answers are stored for every worker of both instances. No request path calls it.
//
// Thread-safe. start() once; stop() (or the destructor) ends every thread after its current call.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "payments/forwarding.h"
#include "store/payments.h"

namespace payments {

struct ForwarderConfig {
  store::Options store;
  std::string default_url;
  std::string fallback_url;
  int workers = 0;
  int timeout_ms = 0;
};

class Forwarder {
 public:
  explicit Forwarder(ForwarderConfig config);
  ~Forwarder();

  // Opens the dispatcher's and the health poller's store connections and starts every thread.
  // false and *error on failure.
  bool start(std::string* error);
  void stop();

  // A payment was queued by this instance: start a dispatcher round.
  void wake();

 private:
  void work(int index);
  void dispatch(std::unique_ptr<store::PaymentsConnection> connection);
  void poll_health(std::unique_ptr<store::PaymentsConnection> connection);
  void refresh_view(store::PaymentsConnection& connection, int64_t now_ms);
  ProcessorView view_of(Processor processor, int64_t now_ms);
  void note_call(Processor processor, AttemptOutcome outcome, int64_t elapsed_ms, int64_t now_ms);

  // Constant after construction.
  const ForwarderConfig config_;
  const std::string owner_;  // This instance's name in leases.

  // The process's writer lock for the file (store/writer_lock.h), taken by every write.
  std::shared_ptr<store::WriterLock> writer_lock_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> last_activity_ms_{0};  // When this instance last queued a payment.
  // Per worker: when its current call started (0 when idle) and to which processor. A call that
  // is taking long says a processor is slow before any answer does.
  std::vector<std::atomic<int64_t>> call_started_ms_;
  std::vector<std::atomic<int>> call_processor_;
  std::vector<std::thread> workers_;
  std::thread dispatcher_;
  std::thread health_poller_;

  // Between the workers, the dispatcher and wake().
  std::mutex queue_mutex_;
  std::condition_variable job_handed_;       // Idle workers wait here.
  std::condition_variable dispatch_needed_;  // The dispatcher waits here.
  std::condition_variable stop_requested_;   // The health poller waits here.
  std::deque<store::PaymentJob> jobs_;       // Leased, for the next idle worker. Guarded.
  // How the calls that ended since the last round went, to be written. Guarded.
  std::vector<store::PaymentsConnection::AttemptEnd> ends_;
  int idle_workers_ = 0;       // Guarded by queue_mutex_.
  bool accepted_ = false;      // Guarded: a payment was queued here since the last round.
  bool workers_done_ = false;  // Guarded: the dispatcher writes ends_ one last time and exits.

  std::mutex view_mutex_;
  std::array<ProcessorView, processor_count> views_{};        // Guarded by view_mutex_.
  std::array<int64_t, processor_count> health_checked_ms_{};  // Guarded by view_mutex_.
  int64_t view_read_ms_ = 0;                                  // Guarded by view_mutex_.
};

}  // namespace payments
