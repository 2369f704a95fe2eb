// payments::WorkerPool runs an instance's forwarding workers. Each worker takes a leased payment
// from the JobQueue, makes one call to the processor the lease names (with the requestedAt it
// names), decides with next_after() (forwarding.h) what becomes of the payment, and hands that to
// `on_end` (the dispatcher writes it). A worker holds one payment at a time, so `workers` bounds
// this instance's calls in flight. The workers report their calls to ProcessorViews.
//
// Contract: every job taken is called once and reported once through on_end, also while stopping.
// stop() closes the queue and returns when every job put before it has been called and reported;
// after stop(), on_end is not called again.
//
// start() once; stop() (or the destructor) joins every worker. REQUIRES: jobs and views outlive
// the pool; on_end is thread-safe (workers call it at once).
#pragma once

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "payments/job_queue.h"
#include "payments/processor_views.h"
#include "store/payments_store.h"

namespace payments {

struct WorkerPoolConfig {
  std::string default_url;  // valid_processor_url() (processor_client.h)
  std::string fallback_url;
  int workers = 0;     // limits::payment_workers_min..max; views has this many call slots.
  int timeout_ms = 0;  // One call; limits::processor_timeout_ms_min..max.
};

class WorkerPool {
 public:
  using EndSink = std::function<void(store::PaymentsSession::AttemptEnd)>;

  WorkerPool(WorkerPoolConfig config, JobQueue* jobs, ProcessorViews* views, EndSink on_end);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void start();
  void stop();

 private:
  void work(int slot);

  const WorkerPoolConfig config_;
  JobQueue* const jobs_;
  ProcessorViews* const views_;
  const EndSink on_end_;
  std::vector<std::thread> threads_;
};

}  // namespace payments
