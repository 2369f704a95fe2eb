#include "payments/dispatcher.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>

#include "check.h"
#include "clock.h"
#include "crebito_limits.h"

namespace payments {

Dispatcher::Dispatcher(store::PaymentsStore* store, int64_t lease_ms, JobQueue* jobs,
                       ProcessorViews* views)
    : store_(store),
      lease_ms_(lease_ms),
      rows_max_(store->rows_per_round()),
      jobs_(jobs),
      views_(views) {
  CREBITO_ASSERT(store_ != nullptr);
  CREBITO_ASSERT(lease_ms_ > 0);
}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::start() {
  thread_.start([this] { run(); });
}

void Dispatcher::stop() { thread_.stop(); }

void Dispatcher::wake() {
  bool first;
  {
    std::lock_guard<std::mutex> lock(thread_.mutex);
    first = !accepted_;
    accepted_ = true;
  }
  // The first since the last round is enough: the round takes every payment that is due.
  if (first) thread_.wake.notify_one();
}

void Dispatcher::ended(store::PaymentsSession::AttemptEnd end) {
  bool first;
  {
    std::lock_guard<std::mutex> lock(thread_.mutex);
    first = ends_.empty();
    ends_.push_back(std::move(end));
  }
  if (first) thread_.wake.notify_one();
}

void Dispatcher::decide(store::PaymentJob* job, int64_t now_ms) const {
  Attempt attempt{job->processor.value_or(Processor::default_processor), job->requested_at_ms,
                  job->pinned, job->attempts};
  if (job->state == store::PaymentState::leased) {
    // The worker that held it vanished mid-call: that call's outcome is unknown.
    const Transition next = next_after(attempt, AttemptOutcome::lease_expired);
    job->pinned = next.pinned;
  }
  if (!job->pinned) {
    job->processor = choose_processor(views_->view(Processor::default_processor, now_ms),
                                      views_->view(Processor::fallback, now_ms), now_ms);
    job->requested_at_ms = now_ms;
  }
  ++job->attempts;
}

bool Dispatcher::holding(int64_t now_ms) {
  if (within_budget(views_->view(Processor::default_processor, now_ms)) ||
      within_budget(views_->view(Processor::fallback, now_ms))) {
    held_since_ms_ = 0;
    return false;
  }
  if (held_since_ms_ == 0) held_since_ms_ = now_ms;
  return now_ms - held_since_ms_ < limits::payment_hold_ms_max;
}

void Dispatcher::run() {
  std::vector<store::PaymentsSession::AttemptEnd> ends;
  std::vector<store::Status> ended;
  std::vector<store::PaymentJob> claimed;
  bool full_round = false;  // The last round claimed all it could: more may be due.
  std::unique_lock<std::mutex> lock(thread_.mutex);
  while (true) {
    thread_.wake.wait_for(lock, std::chrono::milliseconds(limits::payment_idle_poll_ms), [&] {
      return !ends_.empty() || accepted_ || full_round || thread_.stopping;
    });
    if (thread_.stopping && ends_.empty()) break;
    if (!thread_.stopping && (!ends_.empty() || accepted_ || full_round)) {
      thread_.wake.wait_for(lock, std::chrono::milliseconds(limits::payment_dispatch_window_ms),
                            [this] { return thread_.stopping; });
    }
    // A round writes a bounded number of rows, so that no accept waits long behind it; what is
    // left goes in the next round.
    const size_t taken = std::min(ends_.size(), static_cast<size_t>(rows_max_));
    ends.assign(std::make_move_iterator(ends_.begin()),
                std::make_move_iterator(ends_.begin() + static_cast<std::ptrdiff_t>(taken)));
    ends_.erase(ends_.begin(), ends_.begin() + static_cast<std::ptrdiff_t>(taken));
    accepted_ = false;
    const bool stopping = thread_.stopping;
    lock.unlock();

    const int64_t now = clocks::wall_ms();
    // Payments already put in the queue and not yet taken are spoken for. None is sent while no
    // processor is within the call budget: they wait here rather than in a call (held_since_ms_).
    const int claims_max =
        stopping || holding(now) ? 0 : std::min(jobs_->idle_unserved(), rows_max_);
    store::Status status;
    {
      store::PaymentsStore::Lease session = store_->acquire();
      if (views_->refresh_due(now)) {
        std::array<store::HealthRow, processor_count> rows;
        if (session->read_health(&rows) == store::Status::ok) views_->refresh(rows);
      }
      status = session->end_and_claim(
          ends, &ended, now, now + lease_ms_, claims_max,
          [this, now](store::PaymentJob* job) { decide(job, now); }, &claimed);
      if ((status == store::Status::busy || status == store::Status::unavailable) &&
          !ends.empty()) {
        std::fprintf(stderr,
                     "crebito: cannot record the outcomes of %zu payment calls (the first: %s, "
                     "%s): %s\n",
                     ends.size(), ends.front().job.correlation_id.c_str(),
                     ends.front().settled ? "settled" : "requeued", status.message().c_str());
      }
    }
    full_round = status == store::Status::ok && claimed.size() == static_cast<size_t>(rows_max_);
    if (status == store::Status::ok) jobs_->put(&claimed);
    claimed.clear();
    lock.lock();
  }
}

}  // namespace payments
