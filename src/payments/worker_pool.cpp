#include "payments/worker_pool.h"

#include <array>

#include "check.h"
#include "clock.h"
#include "crebito_limits.h"
#include "payments/processor_client.h"

namespace payments {

WorkerPool::WorkerPool(WorkerPoolConfig config, JobQueue* jobs, ProcessorViews* views,
                       EndSink on_end)
    : config_(std::move(config)), jobs_(jobs), views_(views), on_end_(std::move(on_end)) {
  CREBITO_ASSERT(config_.workers >= limits::payment_workers_min);
  CREBITO_ASSERT(config_.workers <= limits::payment_workers_max);
  CREBITO_ASSERT(config_.timeout_ms >= limits::processor_timeout_ms_min);
}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::start() {
  CREBITO_ASSERT(threads_.empty());
  for (int i = 0; i < config_.workers; ++i) threads_.emplace_back(&WorkerPool::work, this, i);
}

void WorkerPool::stop() {
  jobs_->close();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

void WorkerPool::work(int slot) {
  std::array<ProcessorClient, processor_count> clients = {
      ProcessorClient(config_.default_url, config_.timeout_ms),
      ProcessorClient(config_.fallback_url, config_.timeout_ms)};
  store::PaymentJob job;
  while (jobs_->take(&job)) {
    CREBITO_ASSERT(job.processor.has_value());
    const Processor processor = *job.processor;
    int64_t elapsed_ms = 0;
    views_->call_started(slot, processor, clocks::wall_ms());
    const AttemptOutcome outcome = clients[processor_index(processor)].post_payment(
        job.correlation_id, job.amount_cents, job.requested_at_ms, &elapsed_ms);
    const int64_t done = clocks::wall_ms();
    views_->call_ended(slot, processor, outcome, elapsed_ms, done);
    const Attempt attempt{processor, job.requested_at_ms, job.pinned, job.attempts - 1};
    const Transition next = next_after(attempt, outcome);
    // Until the dispatcher writes it, the payment stays leased: a summary counts it as in flight,
    // and should this instance die first, the lease expires and the call is taken as unknown.
    on_end_({std::move(job), next.settled, next.pinned, next.processor, next.requested_at_ms,
             next.settled ? done : done + next.retry_delay_ms});
    job = {};
  }
}

}  // namespace payments
