// metrics: what one crebito instance counts, and the one-line hooks the rooms call to count it
// (docs/METRICS.md lists every metric: name, type, unit, labels, what moves it).
//
//   - Requests: by route pattern and status code, and a latency histogram per route
//     (observe_request, from http::Server). Routes are the patterns the faces install, never a
//     raw path (route_of), so the number of series is bounded.
//   - Ledger commits: each committed write transaction of the ledger and the postings it wrote
//     (posting_written + transaction_ended on SQLite, where one transaction holds a turn's or a
//     group commit's postings; committed(n) on PostgreSQL, where a posting commits alone).
//   - Store events by kind: a PostgreSQL session lost, a session opened again on the same server
//     or on another one (a failover), and answers 503 and 504 that the store caused.
//
// Every counter is a relaxed std::atomic, written without a lock from whichever thread counts;
// a scrape reads them as they are (each value as of some moment, not one snapshot). The
// postings of the transaction in progress are counted per thread (a transaction is written by
// one thread). All of it is process-wide: one registry per instance.
//
// Off (set_enabled(false), --metrics off) every hook returns at once and nothing is counted.
// Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "metrics/exposition.h"

namespace metrics {

// Latency buckets' upper bounds, in nanoseconds: 0.1 ms .. 2.5 s.
inline constexpr std::array<int64_t, 14> request_duration_bounds_ns = {
    100'000,    250'000,    500'000,     1'000'000,   2'500'000,   5'000'000,     10'000'000,
    25'000'000, 50'000'000, 100'000'000, 250'000'000, 500'000'000, 1'000'000'000, 2'500'000'000};
// Postings per committed ledger transaction: 1 .. limits::write_batch_max (32) and above.
inline constexpr std::array<int64_t, 7> commit_postings_bounds = {1, 2, 4, 8, 16, 32, 64};

// The routes the faces install, and `other` for any path none of them matches.
enum class Route : int {
  transactions,          // /clientes/:id/transacoes
  statement,             // /clientes/:id/extrato
  health,                // /health
  ready,                 // /ready
  payments,              // /payments
  payments_summary,      // /payments-summary
  purge_payments,        // /purge-payments
  payments_consistency,  // /payments-consistency
  metrics,               // /metrics
  other,
};
inline constexpr int route_count = static_cast<int>(Route::other) + 1;

// The route a request path (without its query) belongs to, whatever its method.
Route route_of(std::string_view path);
// The route's label value: "/clientes/:id/transacoes", ..., "other".
const char* route_label(Route route);

// Status codes are counted for 100..599; anything else (none is produced) as 599.
inline constexpr int status_min = 100;
inline constexpr int status_max = 599;

enum class StoreEvent : int {
  lost_session,  // A PostgreSQL session that was open was lost (server gone, network, restart).
  reconnect,     // A session opened again after a loss, on the server the last one was on.
  failover,      // A session opened again after a loss, on another server (a new primary).
  answered_503,  // A request answered 503 because the store could not read or write.
  answered_504,  // A posting answered 504: sent, connection lost, outcome not learnt in time.
};
inline constexpr int store_event_count = static_cast<int>(StoreEvent::answered_504) + 1;

// Whether the hooks count. Set once at start, before any thread counts; on by default.
void set_enabled(bool enabled);
bool enabled();

// A request answered: its route, status, and the time from its arrival to its answer.
void observe_request(Route route, int status, int64_t duration_ns);

// SQLite's ledger transactions, on the thread that writes them: a transaction begins (forgets
// what an abandoned one counted), writes a posting's rows, ends (committed or not).
void transaction_begun();
void posting_written();
void transaction_ended(bool committed);
// A transaction committed with `postings` postings, counted at once (PostgreSQL).
void committed(int64_t postings);

void count(StoreEvent event);

// Every family above, in the exposition format.
void write_registry(Exposition* out);

}  // namespace metrics
