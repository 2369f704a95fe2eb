#include "payments/forwarder.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
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
  CREBITO_ASSERT(threads_.empty());
  writer_lock_ = store::WriterLock::open(config_.store.path, error);
  if (!writer_lock_) return false;
  auto health_connection =
      store::PaymentsConnection::open(config_.store, writer_lock_.get(), error);
  if (!health_connection) return false;
  for (int i = 0; i < limits::forwarder_connections; ++i) {
    auto connection = store::PaymentsConnection::open(config_.store, writer_lock_.get(), error);
    if (!connection) return false;
    connections_.push_back(std::move(connection));
  }
  threads_.emplace_back(&Forwarder::poll_health, this, std::move(health_connection));
  for (int i = 0; i < config_.workers; ++i) threads_.emplace_back(&Forwarder::work, this, i);
  return true;
}

Forwarder::Borrowed::Borrowed(Forwarder* forwarder) : forwarder_(forwarder) {
  std::unique_lock<std::mutex> lock(forwarder_->connections_mutex_);
  forwarder_->connection_returned_.wait(lock, [this] { return !forwarder_->connections_.empty(); });
  connection_ = std::move(forwarder_->connections_.back());
  forwarder_->connections_.pop_back();
}

Forwarder::Borrowed::~Borrowed() {
  {
    std::lock_guard<std::mutex> lock(forwarder_->connections_mutex_);
    forwarder_->connections_.push_back(std::move(connection_));
  }
  forwarder_->connection_returned_.notify_one();
}

void Forwarder::stop() {
  {
    std::lock_guard<std::mutex> lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  stop_requested_.notify_all();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

void Forwarder::wake() {
  last_activity_ms_ = now_ms();
  {
    std::lock_guard<std::mutex> lock(wake_mutex_);
    // More pending wake-ups than workers would only make idle workers poll for nothing.
    if (wake_pending_ < config_.workers) ++wake_pending_;
  }
  wake_.notify_one();
}

// Sleeps until woken or the worker's idle interval passes; false when stopping. Only the first
// few workers poll often: idle polls are reads that every instance would pay for nothing.
bool Forwarder::idle_wait(int index) {
  const int sleep_ms = index < limits::payment_idle_pollers ? limits::payment_idle_poll_ms
                                                            : limits::payment_idle_sleep_ms_max;
  std::unique_lock<std::mutex> lock(wake_mutex_);
  wake_.wait_for(lock, std::chrono::milliseconds(sleep_ms),
                 [this] { return wake_pending_ > 0 || stopping_; });
  if (wake_pending_ > 0) --wake_pending_;
  return !stopping_;
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
  const int64_t lease_ms = int64_t{config_.timeout_ms} + limits::processor_connect_timeout_ms +
                           limits::payment_lease_margin_ms;
  // The last call's outcome, to write with the next claim (or on the way out).
  std::optional<store::PaymentsConnection::AttemptEnd> ended;
  AttemptOutcome ended_outcome = AttemptOutcome::unknown;
  const auto report_unrecorded = [&](const store::PaymentsConnection::AttemptEnd& end,
                                     store::Status recorded,
                                     store::PaymentsConnection& connection) {
    if (recorded == store::Status::busy || recorded == store::Status::unavailable) {
      std::fprintf(stderr, "crebito: payment %s: cannot record the %s outcome: %s\n",
                   end.job.correlation_id.c_str(), outcome_name(ended_outcome),
                   connection.last_error().c_str());
    }
  };
  while (!stopping_) {
    const int64_t now = now_ms();
    const auto decide = [&](store::PaymentJob* job) {
      Attempt attempt{static_cast<Processor>(std::max(job->processor, 0)), job->requested_at_ms,
                      job->pinned, job->attempts};
      if (job->state == store::PaymentState::leased) {
        // The worker that held it vanished mid-call: that call's outcome is unknown.
        const Transition next = next_after(attempt, AttemptOutcome::lease_expired);
        job->pinned = next.pinned;
      }
      if (!job->pinned) {
        job->processor =
            static_cast<int>(choose_processor(view_of(Processor::default_processor, now),
                                              view_of(Processor::fallback_processor, now), now));
        job->requested_at_ms = now;
      }
      ++job->attempts;
    };
    store::PaymentJob job;
    store::Status claimed;
    {
      Borrowed connection(this);
      refresh_view(*connection, now);
      if (ended) {
        // How the last call ended is written in the transaction that claims the next payment.
        store::Status recorded = store::Status::ok;
        claimed = connection->end_and_claim(*ended, &recorded, now, now + lease_ms, decide, &job);
        report_unrecorded(*ended, recorded, *connection);
        ended.reset();
      } else {
        claimed = connection->claim(now, now + lease_ms, decide, &job);
      }
    }
    if (claimed != store::Status::ok) {
      if (!idle_wait(index)) break;
      continue;
    }
    // More is due: hand the search on to an idle worker. (Waking one for nothing would cost a
    // look and, often, a write-lock round for a row another worker took first.)
    if (job.more_due) wake();
    const Processor processor = static_cast<Processor>(job.processor);
    int64_t elapsed_ms = 0;
    call_processor_[index].store(job.processor, std::memory_order_relaxed);
    call_started_ms_[index].store(now_ms(), std::memory_order_relaxed);
    const AttemptOutcome outcome = clients[job.processor].post_payment(
        job.correlation_id, job.amount_cents, job.requested_at_ms, &elapsed_ms);
    call_started_ms_[index].store(0, std::memory_order_relaxed);
    const int64_t done = now_ms();
    note_call(processor, outcome, elapsed_ms, done);
    const Attempt attempt{processor, job.requested_at_ms, job.pinned, job.attempts - 1};
    const Transition next = next_after(attempt, outcome);
    // A write that fails (busy past the timeout, I/O) leaves the lease to expire: the payment is
    // then taken again as an unknown outcome, which is safe whatever the call did.
    ended = store::PaymentsConnection::AttemptEnd{
        std::move(job),       next.settled,
        next.pinned,          static_cast<int>(next.processor),
        next.requested_at_ms, next.settled ? done : done + next.retry_delay_ms};
    ended_outcome = outcome;
  }
  if (ended) {
    Borrowed connection(this);
    report_unrecorded(*ended, connection->end(*ended), *connection);
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
      std::unique_lock<std::mutex> lock(wake_mutex_);
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
      (void)connection->write_health(p, row);
    }
  }
}

}  // namespace payments
