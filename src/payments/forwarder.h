// payments::Forwarder runs this instance's forwarding workers and its health poller.
//
// Each worker loops: claim the most overdue payment from the shared queue (store lease), make one
// call to a processor, and write back what forwarding.h's next_after() decides. Workers of both
// instances share the queue; the lease keeps one payment with one worker at a time, and a payment
// whose worker died is taken again when its lease expires (as an unknown outcome).
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

  // Opens one store connection per thread and starts them. false and *error on failure.
  bool start(std::string* error);
  void stop();

  // A payment was queued by this instance: wake one idle worker.
  void wake();

 private:
  // A store connection on loan from connections_ for one short piece of database work.
  class Borrowed {
   public:
    explicit Borrowed(Forwarder* forwarder);
    ~Borrowed();
    Borrowed(const Borrowed&) = delete;
    Borrowed& operator=(const Borrowed&) = delete;
    store::PaymentsConnection* operator->() const { return connection_.get(); }
    store::PaymentsConnection& operator*() const { return *connection_; }

   private:
    Forwarder* const forwarder_;
    std::unique_ptr<store::PaymentsConnection> connection_;
  };
  void work(int index);
  void poll_health(std::unique_ptr<store::PaymentsConnection> connection);
  void refresh_view(store::PaymentsConnection& connection, int64_t now_ms);
  ProcessorView view_of(Processor processor, int64_t now_ms);
  void note_call(Processor processor, AttemptOutcome outcome, int64_t elapsed_ms, int64_t now_ms);
  bool idle_wait(int index);

  // Constant after construction.
  const ForwarderConfig config_;
  const std::string owner_;  // This instance's name in leases.

  // The process's writer lock for the file (store/writer_lock.h), taken by every write.
  std::shared_ptr<store::WriterLock> writer_lock_;
  std::mutex connections_mutex_;
  std::condition_variable connection_returned_;
  std::vector<std::unique_ptr<store::PaymentsConnection>> connections_;  // Free ones; guarded.
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> last_activity_ms_{0};
  // Per worker: when its current call started (0 when idle) and to which processor. A call that
  // is taking long says a processor is slow before any answer does.
  std::vector<std::atomic<int64_t>> call_started_ms_;
  std::vector<std::atomic<int>> call_processor_;  // When this instance last queued or claimed one.
  std::vector<std::thread> threads_;

  std::mutex wake_mutex_;
  std::condition_variable wake_;            // Idle workers wait here.
  std::condition_variable stop_requested_;  // The health poller waits here.
  int wake_pending_ = 0;                    // Guarded by wake_mutex_.

  std::mutex view_mutex_;
  std::array<ProcessorView, processor_count> views_{};        // Guarded by view_mutex_.
  std::array<int64_t, processor_count> health_checked_ms_{};  // Guarded by view_mutex_.
  int64_t view_read_ms_ = 0;                                  // Guarded by view_mutex_.
};

}  // namespace payments
