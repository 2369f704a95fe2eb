// payments::Dispatcher is the only thread of an instance that writes the payments queue. In one
// transaction, a round writes how the calls that ended since the last round went (ended()) and
// claims the most overdue payments (store leases) for the workers that are idle, choosing each
// one's processor (choose_processor() over ProcessorViews) unless it is pinned; it then puts them
// in the JobQueue.
//
// While neither processor is within the call budget (forwarding.h, within_budget()), a round
// claims nothing: payments wait in the queue, for at most limits::payment_hold_ms_max.
//
// A round starts when a payment is accepted here (wake()), when a call ends, after a round that
// claimed all it could, or on the idle poll (limits::payment_idle_poll_ms: retries that came due,
// leases that expired). It first lets limits::payment_dispatch_window_ms pass, so that one take
// of the write lock serves many payments: every take is a wait for the accepts queued behind it.
// A round writes and claims at most the store's rows_per_round() rows of each. A payment
// whose lease expired (its worker or its instance died, or its outcome died unwritten) is claimed
// again as an unknown outcome: pinned to the processor and requestedAt of that call.
//
// A round whose write fails (busy past the timeout, I/O) writes nothing: those leases expire and
// the payments are taken again as unknown outcomes, which is safe whatever the calls did. Each
// round borrows a session from the store and gives it back, so a session whose database went away
// is replaced (or reconnected) by the store, and forwarding resumes once the database is back.
//
// Thread-safe: wake() and ended() from any thread; one mutex, one condition variable (the
// dispatcher's thread waits on it). start() once. stop() writes every outcome ended() was given
// before it, then ends the thread; REQUIRES: no ended() after stop() begins (stop the workers
// first), and store/jobs/views outlive the dispatcher.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "payments/job_queue.h"
#include "payments/owned_thread.h"
#include "payments/processor_views.h"
#include "store/payments_store.h"

namespace payments {

class Dispatcher {
 public:
  // lease_ms: how long a claimed payment stays leased; longer than any call can take.
  Dispatcher(store::PaymentsStore* store, int64_t lease_ms, JobQueue* jobs, ProcessorViews* views);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void start();
  void stop();

  // A payment was queued by this instance: start a round.
  void wake();
  // A worker's call ended: write it in the next round.
  void ended(store::PaymentsSession::AttemptEnd end);

 private:
  void run();
  // Sets the processor, requestedAt and attempts of a claimed payment's next attempt.
  void decide(store::PaymentJob* job, int64_t now_ms) const;
  // True while no processor is within the call budget (within_budget() in forwarding.h), for
  // less than limits::payment_hold_ms_max so far: the round claims nothing.
  bool holding(int64_t now_ms);

  store::PaymentsStore* const store_;  // One session borrowed per round.
  const int64_t lease_ms_;
  const int rows_max_;  // store_->rows_per_round().
  JobQueue* const jobs_;
  ProcessorViews* const views_;
  int64_t held_since_ms_ = 0;  // The dispatcher's thread only: when holding began; 0 when not.

  // Its wake-up is a round needed; stopping: write ends_ one last time and exit.
  OwnedThread thread_;
  // How the calls that ended since the last round went, to be written. Guarded by thread_.mutex.
  std::vector<store::PaymentsSession::AttemptEnd> ends_;
  bool accepted_ = false;  // Guarded: a payment was queued here since the last round.
};

}  // namespace payments
