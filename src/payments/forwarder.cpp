#include "payments/forwarder.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "check.h"
#include "crebito_limits.h"
#include "payments/processor_client.h"
#include "payments/timestamp.h"

namespace payments {
namespace {

// Workers re-read the stored health this often; it changes at most once per poll interval.
constexpr int64_t view_refresh_ms = 200;
// Recent latency is an average that follows the last calls: new = (old * 3 + sample) / 4.
constexpr int64_t latency_weight_old = 3;
constexpr int64_t latency_weight_total = 4;
constexpr const char* health_lease = "health";

std::string make_owner() {
  std::random_device seed;
  return std::to_string(::getpid()) + "-" + std::to_string(seed());
}

}  // namespace

Forwarder::Forwarder(ForwarderConfig config)
    : config_(std::move(config)),
      owner_(make_owner()),
      call_started_ms_(config_.workers),
      call_processor_(config_.workers) {
  CREBITO_ASSERT(config_.workers >= limits::payment_workers_min);
  CREBITO_ASSERT(config_.timeout_ms >= limits::processor_timeout_ms_min);
}

Forwarder::~Forwarder() { stop(); }

bool Forwarder::start(std::string* error) {
  CREBITO_ASSERT(workers_.empty());
  writer_lock_ = store::WriterLock::open(config_.store.path, error);
  if (!writer_lock_) return false;
  auto health_connection =
      store::PaymentsConnection::open(config_.store, writer_lock_.get(), error);
  if (!health_connection) return false;
  auto dispatch_connection =
      store::PaymentsConnection::open(config_.store, writer_lock_.get(), error);
  if (!dispatch_connection) return false;
  for (int i = 0; i < config_.workers; ++i) workers_.emplace_back(&Forwarder::work, this, i);
  dispatcher_ = std::thread(&Forwarder::dispatch, this, std::move(dispatch_connection));
  health_poller_ = std::thread(&Forwarder::poll_health, this, std::move(health_connection));
  return true;
}

void Forwarder::stop() {
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    stopping_ = true;
  }
  job_handed_.notify_all();
  stop_requested_.notify_all();
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  workers_.clear();
  // Every worker has handed over its last outcome: the dispatcher writes them all, then ends.
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    workers_done_ = true;
  }
  dispatch_needed_.notify_one();
  if (dispatcher_.joinable()) dispatcher_.join();
  if (health_poller_.joinable()) health_poller_.join();
}

void Forwarder::wake() {
  last_activity_ms_ = now_ms();
  bool first;
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    first = !accepted_;
    accepted_ = true;
  }
  // The first since the last round is enough: the round takes every payment that is due.
  if (first) dispatch_needed_.notify_one();
}

void Forwarder::refresh_view(store::PaymentsConnection& connection, int64_t now_ms) {
  {
    std::lock_guard<std::mutex> lock(view_mutex_);
    if (now_ms - view_read_ms_ < view_refresh_ms) return;
    view_read_ms_ = now_ms;
  }
  std::array<store::HealthRow, 2> rows;
  if (connection.read_health(&rows) != store::Status::ok) return;
  std::lock_guard<std::mutex> lock(view_mutex_);
  for (int p = 0; p < processor_count; ++p) {
    // A new poll answer replaces what calls showed before it: a processor that was slow and got
    // no calls since would otherwise keep its old latency for ever.
    if (rows[p].checked_ms != health_checked_ms_[p]) views_[p].observed_latency_ms = 0;
    health_checked_ms_[p] = rows[p].checked_ms;
    views_[p].failing = rows[p].failing;
    views_[p].min_response_ms = rows[p].min_response_ms;
  }
}

ProcessorView Forwarder::view_of(Processor processor, int64_t now_ms) {
  ProcessorView view;
  {
    std::lock_guard<std::mutex> lock(view_mutex_);
    view = views_[static_cast<int>(processor)];
  }
  // The oldest call still waiting on this processor counts as a latency already observed.
  for (int i = 0; i < config_.workers; ++i) {
    const int64_t started = call_started_ms_[i].load(std::memory_order_relaxed);
    if (started > 0 &&
        call_processor_[i].load(std::memory_order_relaxed) == static_cast<int>(processor)) {
      view.observed_latency_ms = std::max(view.observed_latency_ms, now_ms - started);
    }
  }
  return view;
}

// What a real call shows refines the stored health: a processor that fails or does not answer is
// avoided for a while; the latency of answered calls is followed.
void Forwarder::note_call(Processor processor, AttemptOutcome outcome, int64_t elapsed_ms,
                          int64_t now_ms) {
  std::lock_guard<std::mutex> lock(view_mutex_);
  ProcessorView& view = views_[static_cast<int>(processor)];
  switch (outcome) {
    case AttemptOutcome::recorded:
    case AttemptOutcome::duplicate:
      view.observed_latency_ms =
          (view.observed_latency_ms * latency_weight_old + elapsed_ms) / latency_weight_total;
      break;
    case AttemptOutcome::failed:
    case AttemptOutcome::throttled:
    case AttemptOutcome::refused:
    case AttemptOutcome::unknown:
    case AttemptOutcome::lease_expired:
      view.avoid_until_ms = std::max(view.avoid_until_ms, now_ms + limits::processor_avoid_ms);
      break;
  }
}

void Forwarder::work(int index) {
  std::array<ProcessorClient, processor_count> clients = {
      ProcessorClient(config_.default_url, config_.timeout_ms),
      ProcessorClient(config_.fallback_url, config_.timeout_ms)};
  while (true) {
    store::PaymentJob job;
    {
      // A payment already handed over is still called when stopping: its lease is this
      // instance's, and another instance would only take it after the lease expires.
      std::unique_lock<std::mutex> lock(queue_mutex_);
      ++idle_workers_;
      job_handed_.wait(lock, [this] { return !jobs_.empty() || stopping_; });
      --idle_workers_;
      if (jobs_.empty()) break;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    CREBITO_ASSERT(job.processor.has_value());
    const Processor processor = *job.processor;
    int64_t elapsed_ms = 0;
    call_processor_[index].store(static_cast<int>(processor), std::memory_order_relaxed);
    call_started_ms_[index].store(now_ms(), std::memory_order_relaxed);
    const AttemptOutcome outcome = clients[processor_index(processor)].post_payment(
        job.correlation_id, job.amount_cents, job.requested_at_ms, &elapsed_ms);
    call_started_ms_[index].store(0, std::memory_order_relaxed);
    const int64_t done = now_ms();
    note_call(processor, outcome, elapsed_ms, done);
    const Attempt attempt{processor, job.requested_at_ms, job.pinned, job.attempts - 1};
    const Transition next = next_after(attempt, outcome);
    // Until the dispatcher writes it, the payment stays leased: a summary counts it as in flight,
    // and should this instance die first, the lease expires and the call is taken as unknown.
    store::PaymentsConnection::AttemptEnd ended{
        std::move(job), next.settled,         next.pinned,
        next.processor, next.requested_at_ms, next.settled ? done : done + next.retry_delay_ms};
    bool first;
    {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      first = ends_.empty();
      ends_.push_back(std::move(ended));
    }
    if (first) dispatch_needed_.notify_one();
  }
}

// One round: wait for a reason (outcomes to write, a payment accepted here, a full last round, or
// the idle poll), let the window pass, then write the outcomes and claim a payment for each idle
// worker (up to limits::payment_dispatch_rows_max of each) in one transaction. A write that fails
// (busy past the timeout, I/O) leaves those leases to expire: the payments are then taken again as
// unknown outcomes, which is safe whatever the calls did.
void Forwarder::dispatch(std::unique_ptr<store::PaymentsConnection> connection) {
  const int64_t lease_ms = int64_t{config_.timeout_ms} + limits::processor_connect_timeout_ms +
                           limits::payment_lease_margin_ms;
  std::vector<store::PaymentsConnection::AttemptEnd> ends;
  std::vector<store::Status> ended;
  std::vector<store::PaymentJob> claimed;
  bool full_round = false;  // The last round claimed all it could: more may be due.
  std::unique_lock<std::mutex> lock(queue_mutex_);
  while (true) {
    dispatch_needed_.wait_for(lock, std::chrono::milliseconds(limits::payment_idle_poll_ms), [&] {
      return !ends_.empty() || accepted_ || full_round || workers_done_;
    });
    if (workers_done_ && ends_.empty()) break;
    if (!workers_done_ && (!ends_.empty() || accepted_ || full_round)) {
      dispatch_needed_.wait_for(lock, std::chrono::milliseconds(limits::payment_dispatch_window_ms),
                                [this] { return workers_done_; });
    }
    // A round writes a bounded number of rows, so that no accept waits long behind it; what is
    // left goes in the next round.
    const size_t taken = std::min(ends_.size(), size_t{limits::payment_dispatch_rows_max});
    ends.assign(std::make_move_iterator(ends_.begin()),
                std::make_move_iterator(ends_.begin() + static_cast<std::ptrdiff_t>(taken)));
    ends_.erase(ends_.begin(), ends_.begin() + static_cast<std::ptrdiff_t>(taken));
    accepted_ = false;
    // Payments already handed over and not yet taken are spoken for.
    const int claims_max = stopping_ ? 0
                                     : std::clamp(idle_workers_ - static_cast<int>(jobs_.size()), 0,
                                                  limits::payment_dispatch_rows_max);
    lock.unlock();

    const int64_t now = now_ms();
    refresh_view(*connection, now);
    const auto decide = [&](store::PaymentJob* job) {
      Attempt attempt{job->processor.value_or(Processor::default_processor), job->requested_at_ms,
                      job->pinned, job->attempts};
      if (job->state == store::PaymentState::leased) {
        // The worker that held it vanished mid-call: that call's outcome is unknown.
        const Transition next = next_after(attempt, AttemptOutcome::lease_expired);
        job->pinned = next.pinned;
      }
      if (!job->pinned) {
        job->processor = choose_processor(view_of(Processor::default_processor, now),
                                          view_of(Processor::fallback, now), now);
        job->requested_at_ms = now;
      }
      ++job->attempts;
    };
    const store::Status status =
        connection->end_and_claim(ends, &ended, now, now + lease_ms, claims_max, decide, &claimed);
    if ((status == store::Status::busy || status == store::Status::unavailable) && !ends.empty()) {
      std::fprintf(stderr,
                   "crebito: cannot record the outcomes of %zu payment calls (the first: %s, %s): "
                   "%s\n",
                   ends.size(), ends.front().job.correlation_id.c_str(),
                   ends.front().settled ? "settled" : "requeued", connection->last_error().c_str());
    }

    lock.lock();
    full_round = status == store::Status::ok &&
                 claimed.size() == static_cast<size_t>(limits::payment_dispatch_rows_max);
    if (status == store::Status::ok) {
      for (store::PaymentJob& job : claimed) jobs_.push_back(std::move(job));
      const size_t handed = claimed.size();
      claimed.clear();
      lock.unlock();
      // One wake-up per payment: waking every idle worker would cost dozens of context switches
      // per round for nothing.
      for (size_t i = 0; i < handed; ++i) job_handed_.notify_one();
      lock.lock();
    }
  }
}

void Forwarder::poll_health(std::unique_ptr<store::PaymentsConnection> connection) {
  std::array<ProcessorClient, processor_count> clients = {
      ProcessorClient(config_.default_url, limits::health_timeout_ms),
      ProcessorClient(config_.fallback_url, limits::health_timeout_ms)};
  const auto tick = std::chrono::milliseconds(limits::payment_idle_poll_ms * 8);
  while (!stopping_) {
    {
      // Woken at once by stop(), so an instance exits without waiting out the tick.
      std::unique_lock<std::mutex> lock(queue_mutex_);
      if (stop_requested_.wait_for(lock, tick, [this] { return stopping_.load(); })) break;
    }
    const int64_t now = now_ms();
    if (now - last_activity_ms_ > limits::health_active_window_ms) continue;
    if (connection->take_lease(health_lease, owner_, now, now + limits::health_lease_ms) !=
        store::Status::ok) {
      continue;
    }
    std::array<store::HealthRow, 2> rows;
    if (connection->read_health(&rows) != store::Status::ok) continue;
    for (int p = 0; p < processor_count && !stopping_; ++p) {
      if (now_ms() - rows[p].checked_ms < limits::health_poll_interval_ms) continue;
      HealthAnswer answer;
      // A 429 or no answer is "unknown", not "failing": the previous answer stays, with the time
      // of this try, so the budget of one call per 5 s is kept.
      store::HealthRow row = rows[p];
      if (clients[p].service_health(&answer)) {
        row.failing = answer.failing;
        row.min_response_ms = answer.min_response_ms;
      }
      row.checked_ms = now_ms();
      (void)connection->write_health(static_cast<Processor>(p), row);
    }
  }
}

}  // namespace payments
