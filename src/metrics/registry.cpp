#include "metrics/registry.h"

#include <atomic>
#include <string>

namespace metrics {
namespace {

constexpr int status_slots = status_max - status_min + 1;

struct RouteCounters {
  RouteCounters() : duration(request_duration_bounds_ns) {}
  std::array<std::atomic<uint64_t>, status_slots> by_status = {};
  Histogram duration;
};

struct Registry {
  Registry() : commit_postings(commit_postings_bounds) {}
  std::atomic<bool> enabled{true};
  std::array<RouteCounters, route_count> routes;
  Histogram commit_postings;  // Its _count is the commits.
  std::array<std::atomic<uint64_t>, store_event_count> store_events = {};
};

// Constructed on first use, never destroyed: threads may still count while the process exits.
Registry& registry() {
  static Registry* const instance = new Registry();
  return *instance;
}

// The postings written by this thread's open transaction.
thread_local int64_t postings_in_transaction = 0;

const char* const route_labels[route_count] = {
    "/clientes/:id/transacoes",
    "/clientes/:id/extrato",
    "/health",
    "/ready",
    "/payments",
    "/payments-summary",
    "/purge-payments",
    "/payments-consistency",
    "/metrics",
    "other",
};

const char* store_event_label(StoreEvent event) {
  switch (event) {
    case StoreEvent::lost_session:
      return "lost_session";
    case StoreEvent::reconnect:
      return "reconnect";
    case StoreEvent::failover:
      return "failover";
    case StoreEvent::answered_503:
      return "answered_503";
    case StoreEvent::answered_504:
      return "answered_504";
  }
  return "?";  // Unreachable: -Wswitch flags an event left out above.
}

}  // namespace

Route route_of(std::string_view path) {
  constexpr std::string_view accounts = "/clientes/";
  if (path.starts_with(accounts)) {
    // The ledger's patterns: /clientes/([^/]*)/transacoes and /clientes/([^/]*)/extrato.
    const std::string_view rest = path.substr(accounts.size());
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return Route::other;
    const std::string_view tail = rest.substr(slash);
    if (tail == "/transacoes") return Route::transactions;
    if (tail == "/extrato") return Route::statement;
    return Route::other;
  }
  for (int route = static_cast<int>(Route::health); route < static_cast<int>(Route::other);
       ++route) {
    if (path == route_labels[route]) return static_cast<Route>(route);
  }
  return Route::other;
}

const char* route_label(Route route) { return route_labels[static_cast<int>(route)]; }

void set_enabled(bool enabled) { registry().enabled.store(enabled, std::memory_order_relaxed); }

bool enabled() { return registry().enabled.load(std::memory_order_relaxed); }

void observe_request(Route route, int status, int64_t duration_ns) {
  Registry& r = registry();
  if (!r.enabled.load(std::memory_order_relaxed)) return;
  const int slot = (status < status_min || status > status_max ? status_max : status) - status_min;
  RouteCounters& counters = r.routes[static_cast<int>(route)];
  counters.by_status[slot].fetch_add(1, std::memory_order_relaxed);
  counters.duration.observe(duration_ns < 0 ? 0 : duration_ns);
}

void transaction_begun() { postings_in_transaction = 0; }

void posting_written() { ++postings_in_transaction; }

void transaction_ended(bool committed_now) {
  const int64_t postings = postings_in_transaction;
  postings_in_transaction = 0;
  if (committed_now) committed(postings);
}

void committed(int64_t postings) {
  Registry& r = registry();
  if (!r.enabled.load(std::memory_order_relaxed)) return;
  r.commit_postings.observe(postings);
}

void count(StoreEvent event) {
  Registry& r = registry();
  if (!r.enabled.load(std::memory_order_relaxed)) return;
  r.store_events[static_cast<int>(event)].fetch_add(1, std::memory_order_relaxed);
}

void write_registry(Exposition* out) {
  Registry& r = registry();
  out->family("crebito_http_requests_total", Exposition::Type::counter,
              "Requests answered by this instance, by route pattern and status code.");
  for (int route = 0; route < route_count; ++route) {
    for (int slot = 0; slot < status_slots; ++slot) {
      const uint64_t value = r.routes[route].by_status[slot].load(std::memory_order_relaxed);
      if (value == 0) continue;
      const std::string status = std::to_string(status_min + slot);
      out->sample("crebito_http_requests_total",
                  {{"route", route_labels[route]}, {"status", status}}, value);
    }
  }
  out->family("crebito_http_request_duration_seconds", Exposition::Type::histogram,
              "Time from a request's arrival (its headers parsed) to its answer queued for "
              "sending (after the turn's commit for a request of a turn), by route pattern.");
  for (int route = 0; route < route_count; ++route) {
    const Histogram& duration = r.routes[route].duration;
    if (duration.count() == 0) continue;
    out->histogram("crebito_http_request_duration_seconds", {{"route", route_labels[route]}},
                   duration, 1e9);
  }
  out->family("crebito_store_commits_total", Exposition::Type::counter,
              "Ledger write transactions committed.");
  out->sample("crebito_store_commits_total", {}, r.commit_postings.count());
  out->family("crebito_store_commit_postings", Exposition::Type::histogram,
              "Postings written per committed ledger transaction.");
  out->histogram("crebito_store_commit_postings", {}, r.commit_postings, 1);
  out->family("crebito_store_events_total", Exposition::Type::counter,
              "Store sessions lost and opened again (on the same server, or on another: a "
              "failover), and requests answered 503 or 504 because of the store.");
  for (int event = 0; event < store_event_count; ++event) {
    out->sample("crebito_store_events_total",
                {{"kind", store_event_label(static_cast<StoreEvent>(event))}},
                r.store_events[event].load(std::memory_order_relaxed));
  }
}

}  // namespace metrics
