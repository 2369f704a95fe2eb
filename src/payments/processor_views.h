// payments::ProcessorViews is what an instance knows about each processor when it chooses one for
// a payment (choose_processor() in forwarding.h): the last health poll answer kept in the store
// (health_poller.h; SQLite or PostgreSQL, whichever --store names), refined by what this instance's
// own calls show. A failed call avoids that processor for limits::processor_avoid_ms; answered
// calls give a recent latency; a call still waiting counts as a latency of at least its age, so a
// processor that turns slow is left before any answer says so (a view also gives the answered
// latency and the oldest waiting call's age apart, for the call budget's stall rule, forwarding.h
// within_budget()). A new poll answer replaces the latency calls showed before it, so a processor
// that was slow and got no calls since does not keep that latency for ever.
//
// Thread-safe: workers report their calls (call_started, call_ended), the dispatcher reads views
// and refreshes the stored health. No call waits for another beyond a short critical section.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "crebito_limits.h"
#include "payments/forwarding.h"
#include "store/payments_store.h"

namespace payments {

class ProcessorViews {
 public:
  // The stored health is re-read at most this often (limits::health_refresh_ms).
  static constexpr int64_t refresh_interval_ms = limits::health_refresh_ms;
  // Recent latency follows the last answered calls: new = (old * 3 + sample) / 4.
  static constexpr int64_t latency_weight_old = 3;
  static constexpr int64_t latency_weight_total = 4;

  // One call slot per worker: slot i holds worker i's call in progress.
  explicit ProcessorViews(int call_slots);

  // True at most once per refresh_interval_ms: the caller should read the stored health now and
  // hand it to refresh().
  bool refresh_due(int64_t now_ms);
  // The stored health rows, by processor_index (store::PaymentsSession::read_health).
  void refresh(const std::array<store::HealthRow, processor_count>& rows);

  // Worker `slot` starts a call to `processor` / its call ended with `outcome` after elapsed_ms.
  // REQUIRES: 0 <= slot < call_slots; one call per slot at a time.
  void call_started(int slot, Processor processor, int64_t now_ms);
  void call_ended(int slot, Processor processor, AttemptOutcome outcome, int64_t elapsed_ms,
                  int64_t now_ms);

  ProcessorView view(Processor processor, int64_t now_ms) const;

 private:
  mutable std::mutex mutex_;
  std::array<ProcessorView, processor_count> views_{};        // Guarded by mutex_.
  std::array<int64_t, processor_count> health_checked_ms_{};  // Guarded by mutex_.
  int64_t refreshed_ms_ = 0;                                  // Guarded by mutex_.

  // Per slot, lock-free (read by view() on every choice): when its call started (0 when idle) and
  // to which processor.
  std::vector<std::atomic<int64_t>> call_started_ms_;
  std::vector<std::atomic<int>> call_processor_;
};

}  // namespace payments
