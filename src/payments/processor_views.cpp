#include "payments/processor_views.h"

#include <algorithm>

#include "check.h"
#include "crebito_limits.h"

namespace payments {

ProcessorViews::ProcessorViews(int call_slots)
    : call_started_ms_(call_slots), call_processor_(call_slots) {
  CREBITO_ASSERT(call_slots >= 1);
}

bool ProcessorViews::refresh_due(int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (refreshed_ms_ != 0 && now_ms - refreshed_ms_ < refresh_interval_ms) return false;
  refreshed_ms_ = now_ms;
  return true;
}

void ProcessorViews::refresh(const std::array<store::HealthRow, processor_count>& rows) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (size_t p = 0; p < rows.size(); ++p) {
    if (rows[p].checked_ms != health_checked_ms_[p]) views_[p].observed_latency_ms = 0;
    health_checked_ms_[p] = rows[p].checked_ms;
    views_[p].failing = rows[p].failing;
    views_[p].min_response_ms = rows[p].min_response_ms;
  }
}

void ProcessorViews::call_started(int slot, Processor processor, int64_t now_ms) {
  CREBITO_ASSERT(slot >= 0 && static_cast<size_t>(slot) < call_started_ms_.size());
  call_processor_[slot].store(static_cast<int>(processor), std::memory_order_relaxed);
  call_started_ms_[slot].store(now_ms, std::memory_order_relaxed);
}

void ProcessorViews::call_ended(int slot, Processor processor, AttemptOutcome outcome,
                                int64_t elapsed_ms, int64_t now_ms) {
  CREBITO_ASSERT(slot >= 0 && static_cast<size_t>(slot) < call_started_ms_.size());
  call_started_ms_[slot].store(0, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mutex_);
  ProcessorView& view = views_[processor_index(processor)];
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

ProcessorView ProcessorViews::view(Processor processor, int64_t now_ms) const {
  ProcessorView view;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    view = views_[processor_index(processor)];
  }
  view.answered_latency_ms = view.observed_latency_ms;
  for (size_t i = 0; i < call_started_ms_.size(); ++i) {
    const int64_t started = call_started_ms_[i].load(std::memory_order_relaxed);
    if (started > 0 &&
        call_processor_[i].load(std::memory_order_relaxed) == static_cast<int>(processor)) {
      view.oldest_call_age_ms = std::max(view.oldest_call_age_ms, now_ms - started);
    }
  }
  view.observed_latency_ms = std::max(view.observed_latency_ms, view.oldest_call_age_ms);
  return view;
}

}  // namespace payments
