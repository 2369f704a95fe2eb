// payments::JobQueue hands the payments the dispatcher leased (dispatcher.h) to this instance's
// idle workers (worker_pool.h).
//
// Contract: every job put() is returned by exactly one take(). close() makes take() return false
// once the queue is empty, but jobs put before close() are still taken: their leases are this
// instance's, and dropping one would leave its payment waiting until the lease expires. A job put
// after close() may find no worker left; its lease then expires and the payment is taken again
// as an unknown outcome (safe, only later).
// idle_unserved() is how many workers wait in take() with no queued job for them: the most the
// next dispatcher round should claim (0 once closed).
//
// Thread-safe: one mutex; workers wait on one condition variable, woken one per job put.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

#include "store/payments_store.h"

namespace payments {

class JobQueue {
 public:
  // Appends the jobs (emptying *jobs) and wakes one waiting worker per job.
  void put(std::vector<store::PaymentJob>* jobs);

  // Blocks until a job is queued (true, *job holds it) or the queue is closed and empty (false).
  bool take(store::PaymentJob* job);

  int idle_unserved() const;

  void close();

 private:
  mutable std::mutex mutex_;
  std::condition_variable job_put_;     // Workers wait here.
  std::deque<store::PaymentJob> jobs_;  // Guarded by mutex_.
  int waiting_ = 0;                     // Workers in take(). Guarded by mutex_.
  bool closed_ = false;                 // Guarded by mutex_.
};

}  // namespace payments
